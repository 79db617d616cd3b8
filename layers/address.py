"""The map's view in the page address: after the user moves the map, ``view=lat,lng,zoom`` is
written into the address of the page holding the map (no rerun), so a reload or a shared link
opens the same view (``pages._session`` reads it back). Views the app sets itself (the opening
fit, a search pick) are not written from here.

The view is stored in WGS84 whatever the basemap: on a GCJ-02 basemap (Gaode) the map's centre
is converted back to WGS84 before it is written (the published GCJ-02 formula, inverted by
fixed-point iteration as ``geo.datums.gcj02_to_wgs84`` does), and the page shifts a stored view
to the basemap's datum before showing it, so one link shows the same place on every basemap."""

from __future__ import annotations

import folium
from branca.element import MacroElement, Template


class ViewInAddress(MacroElement):
    """Keeps ``view=lat,lng,zoom`` (WGS84) of the page's address in step with the map, once the
    user has dragged, zoomed or used the keyboard on it; ``datum`` is the datum the map is drawn
    in (``layers.basemap.datum_of``)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var container = map.getContainer();
          var byUser = false;
          ["mousedown", "wheel", "touchstart", "keydown"].forEach(function (name) {
            container.addEventListener(name, function () { byUser = true; }, {capture: true, passive: true});
          });
          {% if this.datum == "gcj02" %}
          // GCJ-02 -> WGS84: the published offset (as geo.datums._gcj02_offset), inverted by
          // fixed-point iteration; the offset's slope is under 0.01, so a few steps reach 1e-9 degree.
          var A = 6378245.0, EE = 0.00669342162296594323;
          function offset(lon, lat) {
            var x = lon - 105.0, y = lat - 35.0;
            var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
            dlat += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
            dlat += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
            dlat += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320.0 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
            var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
            dlon += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
            dlon += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
            dlon += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
            var rad = lat / 180.0 * Math.PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
            return [dlon * 180.0 / (A / sq * Math.cos(rad) * Math.PI),
                    dlat * 180.0 / ((A * (1 - EE)) / (magic * sq) * Math.PI)];
          }
          function toWgs84(lat, lon) {
            var wlon = lon, wlat = lat;
            for (var i = 0; i < 30; i++) {
              var d = offset(wlon, wlat);
              var elon = lon - (wlon + d[0]), elat = lat - (wlat + d[1]);
              wlon += elon; wlat += elat;
              if (Math.abs(elon) < 1e-10 && Math.abs(elat) < 1e-10) break;
            }
            return [wlat, wlon];
          }
          {% else %}
          function toWgs84(lat, lon) { return [lat, lon]; }
          {% endif %}
          map.on("moveend", function () {
            if (!byUser) return;
            var top;
            try { top = window.parent; top.location.href; } catch (e) { return; }  // another origin
            var c = map.getCenter(), w = toWgs84(c.lat, c.lng);
            var url = new URL(top.location.href);
            url.searchParams.set({{ this.param|tojson }},
                                 w[0].toFixed(5) + "," + w[1].toFixed(5) + "," + map.getZoom());
            top.history.replaceState(top.history.state, "", url.toString());
          });
        })();
        {% endmacro %}
    """)

    def __init__(self, param: str = "view", *, datum: str = "wgs84") -> None:
        super().__init__()
        if datum not in ("wgs84", "gcj02"):
            raise ValueError(f"the map's view can be kept from a WGS84 or GCJ-02 map, not {datum!r}")
        self._name = "ViewInAddress"
        self.param = param
        self.datum = datum

    def add_to(self, parent: folium.Map, name: str | None = None, index: int | None = None) -> ViewInAddress:
        if not isinstance(parent, folium.Map):
            raise TypeError("ViewInAddress goes on the folium.Map itself")
        return super().add_to(parent, name=name, index=index)
