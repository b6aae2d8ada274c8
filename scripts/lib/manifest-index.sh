# shellcheck shell=bash
# Sourced by images/lambda-dotnet/build.sh and scripts/publish-index.sh: one place that writes a
# multi-platform index with `docker manifest`, which reads each child's platform from its config.

# push_index INDEX CHILD...: INDEX (registry/repository:tag) becomes an index of the CHILD
# manifests (tags or @digests in the same repository; the registry must already have them).
push_index() {
  local index=$1 insecure=()
  shift
  # A registry on loopback speaks plain HTTP; docker manifest must be told so.
  case "${index%%/*}" in localhost:* | 127.* | localhost | "[::1]"*) insecure=(--insecure) ;; esac
  # A list left in docker's local manifest store by an earlier run would be amended, not replaced.
  docker manifest rm "$index" >/dev/null 2>&1 || true
  docker manifest create "${insecure[@]}" "$index" "$@" >/dev/null
  docker manifest push "${insecure[@]}" --purge "$index" >/dev/null
}
