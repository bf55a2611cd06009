#!/usr/bin/env bash
# Compiles the xAPI statement checks and row building (the modules named in
# src/impactlens/domain/xapi/__init__.py's COMPILED) into C extensions with mypyc, the
# compiler that ships with mypy, and puts them beside their source, where Python loads
# them first: a POSTed statement is then checked and turned into rows 1.2-1.5x faster
# (bench/lrs_checks.py, docs/performance.md). Does nothing when every extension is newer
# than its source.
# Needs a C compiler and Python's headers; installs them with apt-get when it can and
# otherwise fails loudly, naming the command.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
pkg=src/impactlens/domain/xapi
mapfile -t modules < <("$PY" -c '
import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
for node in tree.body:
    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COMPILED":
        print("\n".join(ast.literal_eval(node.value)))
' "$pkg/__init__.py")
suffix=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')

fresh=1
for m in "${modules[@]}"; do
  [ -f "$pkg/$m$suffix" ] && [ "$pkg/$m$suffix" -nt "$pkg/$m.py" ] || fresh=0
done
[ "$fresh" -eq 1 ] && exit 0

headers=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -f "$headers/Python.h" ] || need+=("$("$PY" -c 'import sys; print("python%d.%d-dev" % sys.version_info[:2])')")
if [ ${#need[@]} -gt 0 ]; then
  bash scripts/apt-install.sh "compiling the statement checks" "${need[@]}"
fi

# build in a copy of the package, so nothing but the extensions lands in src/
build=build/mypyc
rm -rf "$build/impactlens"
mkdir -p "$build"
cp -r src/impactlens "$build/"
find "$build/impactlens" -name '*.so' -delete
echo "compiling ${modules[*]} with mypyc (a few minutes)" >&2
mypyc="$(cd "$(dirname "$PY")" && pwd)/mypyc"
(cd "$build" && "$mypyc" $(printf "impactlens/domain/xapi/%s.py " "${modules[@]}") \
  >mypyc.log 2>&1) || { tail -n 30 "$build/mypyc.log" >&2; echo "mypyc failed (log: $build/mypyc.log)" >&2; exit 1; }
rm -f src/*__mypyc*"$suffix" "$pkg"/*"$suffix"
cp "$build"/*__mypyc*"$suffix" src/
for m in "${modules[@]}"; do
  cp "$build/impactlens/domain/xapi/$m$suffix" "$pkg/"
done
