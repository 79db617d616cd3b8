"""Map labels without collisions: hub names and park names are moved, in the browser, to the
first nearby position where they overlap no other label, park symbol or cluster.

Placement runs in the map's own page (inline script, no download) after every zoom or move,
because the boxes depend on the language, the fonts and the map's size: Chinese hub names are
as wide as English ones are long. Labels are elements with the class ``map-label`` and a
``data-priority`` (lower is placed first); park labels (``park-label``) sit beside their symbol
and try its four sides, hub labels try offsets around their point.
"""

from __future__ import annotations

import folium
from branca.element import MacroElement, Template

# Offsets (px) tried in turn for a hub label, after its own position.
HUB_OFFSETS: tuple[tuple[int, int], ...] = (
    (0, 0), (0, -18), (0, 18), (0, -36), (0, 36), (48, 0), (-48, 0), (48, -22), (-48, -22),
    (48, 22), (-48, 22), (0, -54), (0, 54), (80, 0), (-80, 0), (80, -30), (-80, 30))


class LabelPlacer(MacroElement):
    """Moves every ``.map-label`` of the map off the others, greedily by priority."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var container = map.getContainer();
          var hubOffsets = {{ this.hub_offsets|tojson }};
          function visible(el) { return el.offsetParent !== null; }
          function overlap(a, b) {
            var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
            var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
            return (w > 0 && h > 0) ? w * h : 0;
          }
          function candidates(el) {
            if (!el.classList.contains("park-label")) return hubOffsets;
            var mark = el.parentNode.querySelector(".park-mark");
            var d = mark ? mark.offsetWidth : 20, w = el.offsetWidth, h = el.offsetHeight;
            var centre = -(d + 3) + (d - w) / 2;
            return [[0, 0], [-(w + d + 6), 0], [centre, d / 2 + h / 2 + 3], [centre, -(d / 2 + h / 2 + 3)],
                    [0, h], [0, -h], [-(w + d + 6), h], [-(w + d + 6), -h],
                    [centre, d / 2 + 1.5 * h + 5], [centre, -(d / 2 + 1.5 * h + 5)]];
          }
          function place() {
            var labels = Array.prototype.filter.call(container.querySelectorAll(".map-label"), visible);
            labels.sort(function (a, b) { return (+a.dataset.priority || 9) - (+b.dataset.priority || 9); });
            var obstacles = Array.prototype.filter.call(
              container.querySelectorAll(".park-mark, .marker-cluster"), visible);
            labels.forEach(function (el) { el.style.translate = "0px 0px"; });
            var placed = [];
            labels.forEach(function (el) {
              var own = el.parentNode;
              var fixed = obstacles.filter(function (o) { return !own.contains(o); })
                                   .map(function (o) { return o.getBoundingClientRect(); });
              var best = [0, 0], bestCost = Infinity;
              var moves = candidates(el);
              for (var i = 0; i < moves.length; i++) {
                el.style.translate = moves[i][0] + "px " + moves[i][1] + "px";
                var r = el.getBoundingClientRect(), cost = 0;
                for (var j = 0; j < placed.length; j++) cost += overlap(r, placed[j]);
                for (var k = 0; k < fixed.length; k++) cost += overlap(r, fixed[k]);
                if (cost < bestCost) { bestCost = cost; best = moves[i]; }
                if (cost === 0) break;
              }
              el.style.translate = best[0] + "px " + best[1] + "px";
              el.dataset.placed = bestCost === 0 ? "free" : "overlapping";
              placed.push(el.getBoundingClientRect());
            });
            container.dataset.labelsPlaced = String(Date.now());
          }
          var pending = null;
          function later(delay) {
            if (pending) clearTimeout(pending);
            pending = setTimeout(function () { pending = null; place(); }, delay);
          }
          // Clusters animate for 250 ms after a zoom: place once they have settled.
          map.on("zoomend moveend", function () { later(320); });
          map.on("resize", function () { later(60); });
          map.whenReady(function () { later(0); });
          if (window.ResizeObserver) new ResizeObserver(function () { later(60); }).observe(container);
          if (document.fonts && document.fonts.ready) document.fonts.ready.then(function () { later(0); });
        })();
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "LabelPlacer"
        self.hub_offsets = [list(o) for o in HUB_OFFSETS]

    def add_to(self, parent: folium.Map, name: str | None = None, index: int | None = None) -> LabelPlacer:
        if not isinstance(parent, folium.Map):
            raise TypeError("LabelPlacer goes on the folium.Map itself")
        return super().add_to(parent, name=name, index=index)
