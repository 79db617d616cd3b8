"""The map legend: district roles, park geometry tiers (what each line style means) and kinds."""

from __future__ import annotations

from branca.element import MacroElement, Template

from geo.vocab import GEOMETRY_TIERS, HUB_ROLES, ORGANISATION_KINDS
from layers.html import escape
from layers.i18n import t, term
from layers.parks import symbol_shape
from layers.styles import KIND_COLOURS, ROLE_COLOURS, TIER_STYLES


class Legend(MacroElement):
    """A collapsible legend in the map's top-right corner."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <details class="map-legend" {{ this.open_attr }} style="position:absolute;top:10px;right:10px;z-index:900;
            background:rgba(255,255,255,.94);padding:6px 10px;border-radius:6px;max-width:260px;
            font:12px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)">
          <summary style="font-weight:600;cursor:pointer">{{ this.title }}{% if this.caveat %}
            <span style="font-weight:400;color:#555"> · {{ this.caveat }}</span>{% endif %}</summary>
          {{ this.body }}
        </details>
        {% endmacro %}
    """)

    def __init__(self, *, lang: str = "en", tiers: bool = True, roles: bool = True,
                 kinds: bool = True, symbols: bool = False, expanded: bool = False) -> None:
        super().__init__()
        # Collapsed unless asked: open, it covered the east of the map (issue 11).
        self.open_attr = "open" if expanded else ""
        self._name = "Legend"
        self.title = escape(t("legend_title", lang))
        # Collapsed, the legend still says the one thing a reader must not miss: a dotted park is
        # a nominal extent, a size and not a boundary.
        self.caveat = escape(t("legend_caveat", lang)) if tiers else ""
        parts = []
        if roles:
            rows = "".join(
                f"<div><span style='display:inline-block;width:14px;height:10px;margin-right:5px;"
                f"background:{ROLE_COLOURS[k]};opacity:.6'></span>{escape(term(v, lang))}</div>"
                for k, v in HUB_ROLES.items())
            parts.append(f"<div style='margin-top:4px'><b>{escape(t('legend_roles', lang))}</b>{rows}</div>")
        if tiers:
            rows = []
            for key, value in GEOMETRY_TIERS.items():
                style = TIER_STYLES.get(key)
                if style is None:  # a tier that is never drawn ('unlocated'): a struck-out symbol
                    swatch = ("<svg width='26' height='10' style='margin-right:5px'><circle cx='13' cy='5' r='4' "
                              "fill='none' stroke='#7f8c8d' stroke-width='1.2'/><line x1='7' y1='9' x2='19' y2='1' "
                              "stroke='#7f8c8d' stroke-width='1.2'/></svg>")
                else:
                    dash = f"stroke-dasharray='{style['dashArray']}'" if style["dashArray"] else ""
                    swatch = (f"<svg width='26' height='10' style='margin-right:5px'><line x1='0' y1='5' "
                              f"x2='26' y2='5' stroke='{style['color']}' stroke-width='{style['weight']}' "
                              f"{dash}/></svg>")
                description = value.description_zh if lang == "zh" else value.description_en
                name = term(value, lang) + (f" ({t('legend_unlocated', lang)})" if style is None else "")
                rows.append(f"<div class='legend-tier' data-tier='{key}' title='{escape(description)}'>"
                            f"{swatch}{escape(name)}</div>")
            parts.append(f"<div style='margin-top:4px'><b>{escape(t('legend_tiers', lang))}</b>{''.join(rows)}"
                         f"<div style='color:#555;font-size:11px'>{escape(t('tier_note', lang))}</div></div>")
        if symbols:
            rows = []
            for key in ("nominal", "approximate", "official"):
                shape = symbol_shape(key)
                rows.append(
                    f"<div class='legend-symbol' data-tier='{key}'><span style='display:inline-block;width:12px;"
                    f"height:12px;margin:0 9px 0 5px;vertical-align:-2px;box-sizing:border-box;"
                    f"border:2px {shape['border']} {shape['color']};border-radius:{shape['radius']};"
                    f"background:{shape['color']}38'></span>{escape(term(GEOMETRY_TIERS[key], lang))}</div>")
            parts.append(f"<div style='margin-top:4px'><b>{escape(t('legend_symbols', lang))}</b>{''.join(rows)}"
                         f"<div style='color:#555;font-size:11px'>{escape(t('legend_symbol_size', lang))}</div></div>")
        if kinds:
            rows = "".join(
                f"<div><span style='display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px;"
                f"background:{KIND_COLOURS[k]}'></span>{escape(term(v, lang))}</div>"
                for k, v in ORGANISATION_KINDS.items())
            heading = t("legend_orgs_site" if symbols else "legend_orgs", lang)
            parts.append(f"<div style='margin-top:4px'><b>{escape(heading)}</b>{rows}</div>")
        self.body = "".join(parts)
