# Two commands: `make run` and `make test`. Every target is idempotent and fast when nothing changed.
PY      := .venv/bin/python
BOT     := .venv/bin/bot
MODEL   := models/multilingual-e5-small
READER  := models/reader
READER_EN := models/reader-en
PORT    ?= 8501
API_PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup model index run api test test-fast heldout browser ocr clean

setup: .venv/.installed

.venv/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

model: setup $(MODEL)/.complete $(READER)/assembled.json $(READER_EN)/assembled.json

$(MODEL)/.complete:
	$(BOT) build-model
	touch $@

# The reader: the committed trained file (weights/) over the encoder, assembled in seconds.
# The English reader: a low-rank difference laid over that one (weights/reader-en.md).
$(READER)/assembled.json $(READER_EN)/assembled.json: weights/reader.safetensors weights/reader-en.safetensors $(MODEL)/.complete
	$(BOT) build-model

index: setup model
	@if $(BOT) index-stale corpus; then $(BOT) ingest corpus; else echo "index/ is up to date"; fi

run: setup model ocr index
	.venv/bin/streamlit run app.py --server.port $(PORT)

# The HTTP API and the Kakao skill (bot/api.py) on 127.0.0.1; `make api API_PORT=N` for another port.
api: setup model ocr index
	.venv/bin/uvicorn --factory bot.api:create_app --host 127.0.0.1 --port $(API_PORT)

test: setup model browser ocr
	$(PY) -m pytest -q

# Debian's Chromium and a Korean font for the browser test and screenshots (installed only if missing).
browser:
	./scripts/install-browser.sh || echo "warning: could not install chromium; the browser test will be skipped"

# Tesseract and its Korean model, to read scanned PDF pages (installed only if missing).
ocr:
	./scripts/install-ocr.sh || echo "warning: could not install tesseract; scanned PDF pages will not be read"

# The held-out question sets with the current settings (eval/heldout/README.md).
heldout: setup model index
	./scripts/heldout.sh

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf index models .venv
