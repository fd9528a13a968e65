"""Choosing a coping prompt for the moment: by the participant's recent stage and triggers,
never the same one twice in a row. Pure and deterministic."""

from __future__ import annotations

from collections.abc import Collection

from messages.catalog import Catalog, CopingPrompt


def choose(
    catalog: Catalog,
    stage: str | None,
    triggers: Collection[str],
    last_key: str | None = None,
) -> CopingPrompt:
    """The best-fitting prompt that is not `last_key`; ties go to the next one after the last
    in content order, so repeated asks walk through the list."""
    prompts = list(catalog.coping_prompts)
    keys = [p.key for p in prompts]
    start = keys.index(last_key) + 1 if last_key in keys else 0
    rotated = prompts[start:] + prompts[:start]

    def fit(prompt: CopingPrompt) -> int:
        return 2 * len(set(prompt.triggers) & set(triggers)) + (stage in prompt.stages)

    candidates = [p for p in rotated if p.key != last_key]
    return max(candidates, key=fit)  # max keeps the first of equals: the rotation order
