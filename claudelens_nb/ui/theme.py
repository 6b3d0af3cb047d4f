"""Colours and CSS for the dashboard, injected through one HTML widget.

Light and dark are two sets of CSS variables on `.cl-app`. Dark applies when the app root
has `cl-dark`, or when the browser prefers dark and the user has not picked light
(`cl-light`). The Jupyter widget variables are mapped onto ours, so inputs, selects,
buttons and tabs follow the theme too.
"""

from __future__ import annotations

from importlib import resources

LIGHT = {
    "bg": "#ffffff",
    "surface": "#f8fafc",
    "panel": "#ffffff",
    "row": "#f1f5f9",
    "border": "#e2e8f0",
    "text": "#0f172a",
    "muted": "#64748b",
    "accent": "#3b82f6",
    "accent-hover": "#2563eb",
    "accent-text": "#ffffff",
    "accent-soft": "#e8f0fe",
    "input-bg": "#ffffff",
    "ok": "#15803d",
    "ok-bg": "#dcfce7",
    "err": "#b91c1c",
    "err-bg": "#fee2e2",
    "warn": "#b45309",
    "warn-bg": "#fef3c7",
    "conflict": "#f59e0b",
    "scheme": "light",
}

DARK = {
    "bg": "#0f172a",
    "surface": "#1e293b",
    "panel": "#162032",
    "row": "#243247",
    "border": "#334155",
    "text": "#e2e8f0",
    "muted": "#94a3b8",
    "accent": "#3b82f6",
    "accent-hover": "#60a5fa",
    "accent-text": "#ffffff",
    "accent-soft": "#1e3a5f",
    "input-bg": "#0f172a",
    "ok": "#4ade80",
    "ok-bg": "#14532d",
    "err": "#fca5a5",
    "err-bg": "#450a0a",
    "warn": "#fbbf24",
    "warn-bg": "#451a03",
    "conflict": "#f59e0b",
    "scheme": "dark",
}

# Jupyter widget variables, re-pointed at ours inside the app.
_JP_VARS = {
    "--jp-widgets-color": "text",
    "--jp-widgets-label-color": "text",
    "--jp-widgets-readout-color": "text",
    "--jp-widgets-input-color": "text",
    "--jp-widgets-input-background-color": "input-bg",
    "--jp-widgets-input-border-color": "border",
    "--jp-widgets-input-focus-border-color": "accent",
    "--jp-ui-font-color0": "text",
    "--jp-ui-font-color1": "text",
    "--jp-ui-font-color2": "muted",
    "--jp-content-font-color1": "text",
    "--jp-layout-color0": "bg",
    "--jp-layout-color1": "panel",
    "--jp-layout-color2": "row",
    "--jp-layout-color3": "border",
    "--jp-border-color0": "border",
    "--jp-border-color1": "border",
    "--jp-border-color2": "border",
    "--jp-brand-color1": "accent",
    "--jp-widgets-slider-active-handle-color": "accent",
}


def _vars(palette: dict[str, str]) -> str:
    own = "".join(f"--cl-{k}:{v};" for k, v in palette.items() if k != "scheme")
    jp = "".join(f"{name}:var(--cl-{key});" for name, key in _JP_VARS.items())
    return f"{own}{jp}color-scheme:{palette['scheme']};"


# Voila's page around the app: painted with the app's background so dark mode has no white frame.
_PAGE = ("", " #rendered_cells", " #rendered_cells > div", " .jp-Cell", " .jp-OutputArea",
         " .jp-OutputArea-child", " .jp-OutputArea-output")


def _page(root: str, colour: str) -> str:
    return ",".join(f"body:has({root}){part}" for part in _PAGE) + f"{{background:{colour} !important;}}"


def css() -> str:
    """The whole stylesheet: variables for both themes, then the rules (theme.css)."""
    rules = resources.files(__package__).joinpath("theme.css").read_text(encoding="utf-8")
    dark = _vars(DARK)
    return (
        f".cl-app{{{_vars(LIGHT)}}}\n"
        f".cl-app.cl-dark{{{dark}}}\n"
        f"@media (prefers-color-scheme: dark){{.cl-app:not(.cl-light){{{dark}}}"
        f"{_page('.cl-app:not(.cl-light)', DARK['bg'])}}}\n"
        f"{_page('.cl-app.cl-dark', DARK['bg'])}\n"
        f"{_page('.cl-app.cl-light', LIGHT['bg'])}\n"
        + rules
    )


def style_html() -> str:
    return f"<style>{css()}</style>"
