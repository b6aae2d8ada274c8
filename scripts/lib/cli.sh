# shellcheck shell=bash
# Sourced by the scripts that call the CLI (rebuild-image.sh, publish-index.sh,
# check-deployed-images.sh), from the repository root.

# Sets the array sl_images to the CLI command: $SL_IMAGES (the installed tool in CI, e.g.
# SL_IMAGES=sl-images), else this checkout's build, made now.
# shellcheck disable=SC2034 # sl_images is for the sourcing script
use_sl_images() {
  if [ -n "${SL_IMAGES:-}" ]; then
    read -r -a sl_images <<<"$SL_IMAGES"
  else
    dotnet build src/Sealights.Images.Cli -c Release --nologo -v quiet >/dev/null
    sl_images=(dotnet src/Sealights.Images.Cli/bin/Release/net8.0/sl-images.dll)
  fi
}

# output KEY VALUE: one step output for GitHub Actions (nothing outside a workflow).
output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; fi
}
