/*
 * /var/lang/bin/dotnet of the arm64 stand-in. The amd64 stand-in copies this machine's muxer;
 * no NuGet package on the mirror carries an arm64 one (the runtime pack brings libhostfxr.so,
 * not the dotnet executable). What the muxer does is small: find host/fxr/<newest>/libhostfxr.so
 * next to itself and hand it the command line, telling it where the host and the root are;
 * hostfxr does everything else (exec, --depsfile, --runtimeconfig, framework resolution, errors).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*startupinfo_fn)(int argc, const char **argv, const char *host_path,
                              const char *dotnet_root, const char *app_path);

/* Numeric compare of dotted versions (10.0.12 > 10.0.9); a prerelease tail sorts by strcmp. */
static int version_compare(const char *a, const char *b) {
    while (*a && *b) {
        char *end_a, *end_b;
        long x = strtol(a, &end_a, 10), y = strtol(b, &end_b, 10);
        if (x != y) return x < y ? -1 : 1;
        if (*end_a != '.' || *end_b != '.') return strcmp(end_a, end_b);
        a = end_a + 1;
        b = end_b + 1;
    }
    return strcmp(a, b);
}

int main(int argc, const char **argv) {
    char host[PATH_MAX], root[PATH_MAX], fxr_dir[PATH_MAX + 16], fxr[2 * PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", host, sizeof host - 1);
    if (n <= 0) { fputs("dotnet: cannot resolve its own path\n", stderr); return 1; }
    host[n] = '\0';
    strcpy(root, host);
    *strrchr(root, '/') = '\0';

    snprintf(fxr_dir, sizeof fxr_dir, "%s/host/fxr", root);
    DIR *dir = opendir(fxr_dir);
    char newest[NAME_MAX + 1] = "";
    for (struct dirent *e; dir && (e = readdir(dir));) {
        if (e->d_name[0] != '.' && (!newest[0] || version_compare(e->d_name, newest) > 0))
            snprintf(newest, sizeof newest, "%s", e->d_name);
    }
    if (dir) closedir(dir);
    if (!newest[0]) { fprintf(stderr, "dotnet: no hostfxr under %s\n", fxr_dir); return 1; }
    snprintf(fxr, sizeof fxr, "%s/%s/libhostfxr.so", fxr_dir, newest);

    void *library = dlopen(fxr, RTLD_NOW | RTLD_LOCAL);
    if (!library) { fprintf(stderr, "dotnet: %s\n", dlerror()); return 1; }
    startupinfo_fn start = (startupinfo_fn)dlsym(library, "hostfxr_main_startupinfo");
    if (!start) { fprintf(stderr, "dotnet: %s lacks hostfxr_main_startupinfo\n", fxr); return 1; }
    return start(argc, argv, host, root, "");
}
