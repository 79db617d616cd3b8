"""The map's view in the page address: after the user moves the map, ``view=lat,lng,zoom`` is
written into the address of the page holding the map (no rerun), so a reload or a shared link
opens the same view (``pages._session`` reads it back). Views the app sets itself (the opening
fit, a search pick) are not written from here."""

from __future__ import annotations

import folium
from branca.element import MacroElement, Template


class ViewInAddress(MacroElement):
    """Keeps ``view=lat,lng,zoom`` of the page's address in step with the map, once the user
    has dragged, zoomed or used the keyboard on it."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var container = map.getContainer();
          var byUser = false;
          ["mousedown", "wheel", "touchstart", "keydown"].forEach(function (name) {
            container.addEventListener(name, function () { byUser = true; }, {capture: true, passive: true});
          });
          map.on("moveend", function () {
            if (!byUser) return;
            var top;
            try { top = window.parent; top.location.href; } catch (e) { return; }  // another origin
            var c = map.getCenter();
            var url = new URL(top.location.href);
            url.searchParams.set({{ this.param|tojson }},
                                 c.lat.toFixed(5) + "," + c.lng.toFixed(5) + "," + map.getZoom());
            top.history.replaceState(top.history.state, "", url.toString());
          });
        })();
        {% endmacro %}
    """)

    def __init__(self, param: str = "view") -> None:
        super().__init__()
        self._name = "ViewInAddress"
        self.param = param

    def add_to(self, parent: folium.Map, name: str | None = None, index: int | None = None) -> ViewInAddress:
        if not isinstance(parent, folium.Map):
            raise TypeError("ViewInAddress goes on the folium.Map itself")
        return super().add_to(parent, name=name, index=index)
