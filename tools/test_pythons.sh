#!/usr/bin/env bash
# Run the test suite on Python 3.12 and 3.13, each in its own virtual environment.
#
# simpleaudio 1.0.4 crashes when playback ends on CPython 3.12+; there the project depends on
# simpleaudio-312compat instead (same import name), which is built from source here (gcc,
# the Python headers, libasound2-dev). Running the whole suite, the end-to-end ALSA playback
# test included, on each version is what keeps that crash from coming back unnoticed.
#
# Usage: tools/test_pythons.sh [VERSION...] [-- PYTEST-ARGS...]   (default: 3.12 3.13)
# An interpreter is found as $PYTHON3_12 / $PYTHON3_13, then python3.12 / python3.13 on PATH,
# then under pyenv. The environments are .venv-3.12 and .venv-3.13 (reused while pyproject.toml
# is unchanged).
set -euo pipefail
cd "$(dirname "$0")/.."

versions=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    versions+=("$1")
    shift
done
[ "${1:-}" = "--" ] && shift
[ ${#versions[@]} -eq 0 ] && versions=(3.12 3.13)
pytest_args=("$@")
[ ${#pytest_args[@]} -eq 0 ] && pytest_args=(-q)

find_python() {
    local version=$1 var="PYTHON${1/./_}" candidate
    if [ -n "${!var:-}" ]; then
        echo "${!var}"
        return
    fi
    for candidate in "python$version" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version"*/bin/python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
    return 1
}

status=0
for version in "${versions[@]}"; do
    python=$(find_python "$version") || {
        echo "test_pythons: no Python $version found (set PYTHON${version/./_})" >&2
        exit 2
    }
    venv=".venv-$version"
    if [ ! -f "$venv/.installed" ] || [ pyproject.toml -nt "$venv/.installed" ]; then
        echo "== Python $version: creating $venv with $python"
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install -q --upgrade pip
        "$venv/bin/python" -m pip install -q -e '.[dev]'
        touch "$venv/.installed"
    fi
    # The playback backend must be importable, or the ALSA end-to-end test would only skip.
    "$venv/bin/python" -c "import simpleaudio" || {
        echo "test_pythons: simpleaudio does not import on Python $version" >&2
        exit 1
    }
    echo "== Python $version: $("$venv/bin/python" -m pip show simpleaudio simpleaudio-312compat 2>/dev/null | sed -n 's/^Name: //p' | tr '\n' ' ')"
    "$venv/bin/python" -m pytest "${pytest_args[@]}" || status=$?
done
exit $status
