#!/bin/sh
# Export every effects fidelity case with Inkscape, seeing only the project's fonts.
#
#   tests/effects_fidelity/make_expected.sh            # all cases
#   tests/effects_fidelity/make_expected.sh kerning    # one case
#
# The PNGs in expected/ are the acceptance bar for filters, masks, blend modes and markers: PixelDrive must draw
# each case the way Inkscape does. Re-run after adding a case or a font, look at the
# images, and update expected/README.md (command, Inkscape version, date).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
inkscape=${INKSCAPE:-/usr/bin/inkscape}

# Only svg_templates/fonts, through the project's fontconfig file; a private cache so a
# stale user cache cannot hide a font that was just added.
FONTCONFIG_FILE=$(realpath "$root/conf/fonts.conf")
XDG_CACHE_HOME=$(mktemp -d)
export FONTCONFIG_FILE XDG_CACHE_HOME
trap 'rm -rf "$XDG_CACHE_HOME"' EXIT

cd "$here"
mkdir -p expected
if [ "$#" -eq 0 ]; then
    set -- $(for f in cases/*.svg; do basename "$f" .svg; done)
fi
"$inkscape" --version 2>/dev/null
for name in "$@"; do
    echo "export $name"
    "$inkscape" --export-type=png --export-filename="expected/$name.png" \
        --export-background=white --export-background-opacity=1 "cases/$name.svg"
done
