#!/usr/bin/env bash
# Makes a natively built (dynamically linked) Lambda binary self-contained.
#
# Usage: bundle-libs.sh FUNCTION_DIR RUNTIME_GLIBC
#
# FUNCTION_DIR/bootstrap is the binary cargo-lambda built on this machine. The
# provided.al2023 runtime has glibc 2.34 and GCC 11's libstdc++, older than a
# Debian 12 build host's (glibc 2.36, GCC 12): Debian's libstdc++ and OpenCV
# need symbol versions AL2023 lacks. So when the binary or a library it needs
# requires a glibc newer than RUNTIME_GLIBC, the binary moves to bin/, every
# shared library it loads (glibc and the dynamic loader included) is copied to
# lib/, and bootstrap becomes a two-line script that starts the binary through
# the shipped loader. Otherwise only the non-glibc libraries are copied to lib/
# (on Lambda's default LD_LIBRARY_PATH).
set -euo pipefail

dir=${1:?function directory}
runtime_glibc=${2:?runtime glibc version, e.g. 2.34}
bin="$dir/bootstrap"
[ -f "$bin" ] || { echo "bundle-libs: $bin not found" >&2; exit 1; }

if head -c 2 "$bin" | grep -q '#!'; then
  echo "bundle-libs: $bin is already a wrapper; nothing to do"
  exit 0
fi
if ! ldd "$bin" >/dev/null 2>&1; then
  echo "bundle-libs: $bin is statically linked; nothing to bundle"
  exit 0
fi

rm -rf "$dir/lib" "$dir/bin"
mkdir -p "$dir/lib"
glibc_re='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread\.so|libdl\.so|librt\.so|libresolv\.so|libutil\.so|libmvec\.so)'

# name => path for every library the loader resolves
mapfile -t deps < <(ldd "$bin" | awk '/=> \// {print $1 " " $3} /^[ \t]*\/.*ld-linux/ {print "LOADER " $1}')
loader=""
for line in "${deps[@]}"; do
  name=${line%% *}; path=${line#* }
  if [ "$name" = LOADER ]; then loader=$path; continue; fi
  cp -L "$path" "$dir/lib/$name"
done

needed=$( { cat "$bin"; for f in "$dir"/lib/*; do [ -f "$f" ] && ! [[ $(basename "$f") =~ $glibc_re ]] && cat "$f"; done; } \
  | grep -aoE 'GLIBC_2\.[0-9]+' | sed 's/GLIBC_//' | sort -Vu | tail -1 || true)
needed=${needed:-0}
echo "bundle-libs: ${#deps[@]} shared libraries; newest glibc symbol version needed: $needed (runtime has $runtime_glibc)"

if [ "$(printf '%s\n%s\n' "$needed" "$runtime_glibc" | sort -V | tail -1)" = "$runtime_glibc" ]; then
  # The runtime's glibc is new enough: ship everything but glibc itself.
  for f in "$dir"/lib/*; do
    if [[ $(basename "$f") =~ $glibc_re ]]; then rm -f "$f"; fi
  done
  exit 0
fi

[ -n "$loader" ] || { echo "bundle-libs: could not find the dynamic loader of $bin" >&2; exit 1; }
cp -L "$loader" "$dir/lib/$(basename "$loader")"
mkdir -p "$dir/bin"
mv "$bin" "$dir/bin/$(basename "$dir")"
cat > "$bin" <<WRAPPER
#!/bin/sh
# Starts the function with the glibc and libraries it was built against (lib/).
here="\${LAMBDA_TASK_ROOT:-\$(dirname "\$0")}"
exec "\$here/lib/$(basename "$loader")" --library-path "\$here/lib" "\$here/bin/$(basename "$dir")" "\$@"
WRAPPER
chmod 0755 "$bin" "$dir/lib/$(basename "$loader")"
echo "bundle-libs: glibc $needed > $runtime_glibc: $bin now starts bin/$(basename "$dir") through the shipped loader"
