"""OpenStreetMap: reading extracts, fetching online, matching parks, site context.

The package is split along its seams; ``geo.osm`` keeps every public name of each part:

``geo.osm.read``
    Extracts with no network: OSM XML (``.osm``, ``.osm.bz2``, ``.osm.gz``) through osmnx and
    ``.osm.pbf`` through pyosmium, into one frame (``read_osm_file``); a damaged file of any
    container is one ``OSMFileError`` line.
``geo.osm.fetch``
    Online queries through osmnx (Nominatim, Overpass) that fail fast (``fetch_osm``), the area
    to query around a park (``park_query_polygon``) and the size-bounded response cache.
``geo.osm.match``
    Scoring OSM areas as park boundaries (``match_parks``); replacing an outline is the job of
    ``geo.osm_store``, which never does it silently and keeps the old outline.
``geo.osm.context``
    Hospitals (tertiary where tagged), metro stations, universities, research institutes and
    airports around each park, with distances in metres (``context_layers``).

The street network read from the same extracts is ``geo.streets``. OpenStreetMap data is
(c) OpenStreetMap contributors, ODbL 1.0: ``OSM_ATTRIBUTION`` travels with every feature.
"""

from geo.errors import OSMError, OSMFileError, OSMMatchError, OSMQueryError, OSMUnavailableError
from geo.osm.context import (
    CONTEXT_KINDS,
    DEFAULT_CONTEXT_RADII_M,
    TERTIARY_TAG_KEYS,
    classify_context,
    context_export_metadata,
    context_layers,
    context_summary,
)
from geo.osm.fetch import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_NOMINATIM_URL,
    DEFAULT_OVERPASS_URL,
    cache_dir,
    fetch_osm,
    park_query_polygon,
    prune_cache,
)
from geo.osm.match import MATCH_WEIGHTS, TAG_SCORES, match_parks, name_similarity, normalise_name, park_row
from geo.osm.read import (
    CONTEXT_TAGS,
    DEFAULT_TAGS,
    MAX_UNCOMPRESSED_BYTES,
    NAME_KEYS,
    OSM_ATTRIBUTION,
    OSM_COPYRIGHT_URL,
    PARK_TAGS,
    STANDARD_COLUMNS,
    SUPPORTED_SUFFIXES,
    TagFilter,
    file_suffix,
    read_osm_file,
)

__all__ = [
    "CONTEXT_KINDS", "CONTEXT_TAGS", "DEFAULT_CACHE_BYTES", "DEFAULT_CONTEXT_RADII_M", "DEFAULT_NOMINATIM_URL",
    "DEFAULT_OVERPASS_URL", "DEFAULT_TAGS", "MATCH_WEIGHTS", "MAX_UNCOMPRESSED_BYTES", "NAME_KEYS",
    "OSM_ATTRIBUTION", "OSM_COPYRIGHT_URL", "PARK_TAGS", "STANDARD_COLUMNS", "SUPPORTED_SUFFIXES", "TAG_SCORES",
    "TERTIARY_TAG_KEYS", "OSMError", "OSMFileError", "OSMMatchError", "OSMQueryError", "OSMUnavailableError",
    "TagFilter", "cache_dir", "classify_context", "context_export_metadata", "context_layers", "context_summary",
    "fetch_osm", "file_suffix", "match_parks", "name_similarity", "normalise_name", "park_query_polygon",
    "park_row", "prune_cache", "read_osm_file",
]
