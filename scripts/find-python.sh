#!/bin/sh
# Print the path of the first Python >= 3.12 that actually runs.
# PATH is searched first (python3.12, python3.13, python3, python); then pyenv's installed
# versions, called by their full path because pyenv's bare `python3.12` shim fails until a
# version is selected. Exits 1 with a message on stderr when none is found.
ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}
for name in python3.12 python3.13 python3 python; do
    if command -v "$name" >/dev/null 2>&1 && ok "$name"; then
        command -v "$name"
        exit 0
    fi
done
if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root 2>/dev/null)
    for dir in $(ls -d "$root"/versions/3.* 2>/dev/null | sort -t. -k2,2n -k3,3n); do
        for exe in "$dir"/bin/python3.*[0-9]; do
            if [ -x "$exe" ] && ok "$exe"; then
                echo "$exe"
                exit 0
            fi
        done
    done
fi
echo "bayes_ccd needs Python >= 3.12 (PyMC 6 and ArviZ 1 require it), and none was found on PATH or under pyenv. Install one (e.g. 'pyenv install 3.12') and run make again." >&2
exit 1
