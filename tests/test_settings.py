"""One settings object: documented, validated, overridable from the environment."""
from pathlib import Path

import pytest

from bot.errors import BadSettings
from bot.settings import SETTING_NAMES, Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_every_setting_is_documented_in_the_readme(name):
    assert f"`{name}`" in README, f"README.md does not document the setting {name}"


def test_environment_overrides_defaults_and_flags_override_environment():
    env = {"BOT_CHUNK_SIZE": "300", "BOT_DENSE_WEIGHT": "0.3", "BOT_INDEX_DIR": "/tmp/x"}
    settings = Settings.from_env(env)
    assert settings.chunk_size == 300 and settings.dense_weight == 0.3
    assert settings.index_dir == Path("/tmp/x")
    assert Settings.from_env(env, chunk_size=250).chunk_size == 250


@pytest.mark.parametrize("changes,message", [
    ({"chunk_size": 200, "chunk_overlap": 300}, "chunk_overlap \\(300\\) must be >= 0 and smaller than chunk_size \\(200\\)"),
    ({"dense_weight": 1.5}, "dense_weight"),
    ({"max_question_chars": 1}, "max_question_chars"),
])
def test_bad_values_are_refused_with_a_message_that_names_the_fix(changes, message):
    with pytest.raises(BadSettings, match=message):
        Settings(**changes)


def test_a_non_numeric_environment_value_is_named():
    with pytest.raises(BadSettings, match="BOT_TOP_K"):
        Settings.from_env({"BOT_TOP_K": "many"})


def test_embed_precision_is_validated_and_auto_follows_the_cpu():
    from bot.embedding import native_bfloat16, resolve_precision
    from bot.errors import BadSettings
    from bot.settings import Settings

    with pytest.raises(BadSettings, match="embed_precision"):
        Settings(embed_precision="int4")
    assert resolve_precision("float32") == "float32"
    assert resolve_precision("auto") == ("bfloat16" if native_bfloat16() else "float32")
