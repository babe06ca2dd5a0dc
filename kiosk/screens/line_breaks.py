"""Chinese line breaking for every label: no line starts with a closing mark, none ends with an opening one.

Kivy wraps text without spaces at whatever character overflows the line, so a
paragraph could continue on a line that starts with "，" or "。", or leave "“"
alone at a line's end. Chinese typesetting (禁则, ``kiosk.screens.kinsoku``)
forbids both; a resident reads such a line as broken. Kivy has no hook for it,
so the kiosk's labels use :class:`KioskCoreLabel`: after Kivy's layout it moves
the characters before an offending mark down with it (at most a few passes),
by laying the text out again with explicit breaks. The widget's ``text`` is
never changed; only what is drawn. Installed by :func:`install`
(``kiosk.kivy_setup``) before any label is built.
"""

from __future__ import annotations

from typing import Any

from kivy.core.text import Label as _ProviderLabel

from kiosk.screens.kinsoku import kinsoku_text

_PASSES = 12


def laid_out(core: Any) -> list[tuple[str, bool]]:
    return [("".join(w.text for w in line.words), bool(line.line_wrap)) for line in core._cached_lines]


class KioskCoreLabel(_ProviderLabel):  # type: ignore[misc, valid-type]
    """Kivy's text provider with :func:`kinsoku_text` applied after each layout."""

    def render(self, real: bool = False) -> Any:
        size = super().render(real)
        if real or self._text_size[0] is None:
            return size
        core: Any = self  # Kivy is untyped
        original: str = core.text
        try:
            for _ in range(_PASSES):  # one mend per pass; a paragraph rarely needs more than two
                fixed = kinsoku_text(core.text.strip() if core.options["strip"] else core.text, laid_out(core))
                if fixed is None:
                    break
                core.text = fixed
                size = super().render(False)
        finally:
            core.text = original
        return size


def install() -> None:
    """Every Kivy label widget built from now on draws through :class:`KioskCoreLabel`."""
    import kivy.uix.label

    kivy.uix.label.CoreLabel = KioskCoreLabel
