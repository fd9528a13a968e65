"""Loaded at start-up by the `aftercare` processes the tests run (tests/cli.py puts this folder
on their PYTHONPATH), for two test-only shortcuts, each asked for by an environment variable:

- AFTERCARE_TEST_SCREEN_MODEL: a file with the screen's model (to_bytes), trained once by the test
  process on the same corpus; the process reads it instead of training its own (about 3 s of
  CPU in a child for every `aftercare run` a test starts, paid even by a run that fails at
  start-up). model_for() and the rest of the screen are the product's own;
  tests/test_cli_end_to_end.py runs the bot without this, so the real training at start-up
  stays under test.
- AFTERCARE_TEST_SQLITE_NO_SYNC: SQLite commits without waiting for the disk (PRAGMA
  synchronous=OFF on every connection), as the test process's own connections do
  (tests/conftest.py). A test database is thrown away; durability is not what it tests.

Neither is read by the product: a deployment never has this folder on its path."""

import os

if os.environ.get("AFTERCARE_TEST_SQLITE_NO_SYNC"):
    from no_fsync import commit_without_waiting_for_the_disk  # beside this file

    commit_without_waiting_for_the_disk()

if _model := os.environ.get("AFTERCARE_TEST_SCREEN_MODEL"):
    from pathlib import Path

    from messages import screen_model
    from messages.screen_corpus import CORPUS_DIR

    _train = screen_model.trained_on

    def _trained_on(directory: Path) -> screen_model.ScreenModel:
        """The file's model for the shipped corpus, read when first asked for (3 MB of JSON:
        a command that never screens never reads it); any other corpus is trained."""
        if directory != CORPUS_DIR:
            return _train(directory)
        return screen_model.ScreenModel.from_bytes(Path(_model).read_bytes())

    screen_model.trained_on = _trained_on
