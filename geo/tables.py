"""Tables of coordinates (CSV, XLSX): decoding, coordinate columns, and which datum they are in.

Chinese business databases export Gaode (GCJ-02) or Baidu (BD-09) coordinates, planning bureaus
CGCS2000 Gauss-Krüger metres, GPS and OpenStreetMap WGS84. The numbers alone cannot tell WGS84
from GCJ-02 (they differ by a few hundred metres), so a table's datum is always chosen by the
user; this module proposes one from the column names and the values and says why.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Transformer

from geo.datums import convert
from geo.errors import DatumError, ImportRefusedError, LimitExceededError
from geo.vocab import Term

BEIJING_BBOX: tuple[float, float, float, float] = (115.41, 39.44, 117.51, 41.06)

INPUT_DATUMS: dict[str, Term] = {
    "wgs84": Term("WGS84 (GPS, OpenStreetMap, Google Earth)", "WGS84（GPS、OpenStreetMap、谷歌地球）"),
    "gcj02": Term("GCJ-02 (Gaode/Amap, Tencent, most Chinese business databases)",
                  "GCJ-02（高德、腾讯、多数企业数据库）"),
    "bd09": Term("BD-09 (Baidu Maps)", "BD-09（百度地图）"),
    "cgcs2000": Term("CGCS2000 longitude/latitude (EPSG:4490)", "CGCS2000 经纬度（EPSG:4490）"),
    "epsg:4547": Term("CGCS2000 3° Gauss-Krüger, CM 114°E (EPSG:4547), metres",
                      "CGCS2000 3度带高斯-克吕格 中央经线114°E（EPSG:4547），米"),
    "epsg:4548": Term("CGCS2000 3° Gauss-Krüger, CM 117°E (EPSG:4548), metres",
                      "CGCS2000 3度带高斯-克吕格 中央经线117°E（EPSG:4548），米"),
    "epsg:4549": Term("CGCS2000 3° Gauss-Krüger, CM 120°E (EPSG:4549), metres",
                      "CGCS2000 3度带高斯-克吕格 中央经线120°E（EPSG:4549），米"),
    "epsg:4526": Term("CGCS2000 3° Gauss-Krüger zone 38, with zone prefix (EPSG:4526), metres",
                      "CGCS2000 3度带高斯-克吕格 第38带 含带号（EPSG:4526），米"),
    "epsg:4527": Term("CGCS2000 3° Gauss-Krüger zone 39, with zone prefix (EPSG:4527), metres",
                      "CGCS2000 3度带高斯-克吕格 第39带 含带号（EPSG:4527），米"),
    "epsg:4528": Term("CGCS2000 3° Gauss-Krüger zone 40, with zone prefix (EPSG:4528), metres",
                      "CGCS2000 3度带高斯-克吕格 第40带 含带号（EPSG:4528），米"),
}
_OFFSET_DATUMS = {"wgs84", "gcj02", "bd09"}
_PROJECTED = {code: int(code.split(":")[1]) for code in INPUT_DATUMS if code.startswith("epsg:")}
_ZONE_PREFIX_RANGES = {"epsg:4526": (38.0e6, 39.0e6), "epsg:4527": (39.0e6, 40.0e6),
                       "epsg:4528": (40.0e6, 41.0e6)}
_PLAIN_GK = ("epsg:4548", "epsg:4547", "epsg:4549")

_LON_NAMES = {"lon", "lng", "long", "longitude", "x", "经度", "东经", "x坐标", "横坐标", "经度坐标"}
_LAT_NAMES = {"lat", "latitude", "y", "纬度", "北纬", "y坐标", "纵坐标", "纬度坐标"}
_PAIR_NAMES = {"经纬度", "坐标", "lnglat", "lonlat", "lnglat坐标", "coordinates", "coordinate", "location",
               "位置坐标", "坐标经纬度"}
_WKT_NAMES = {"wkt", "geometry", "geom", "thegeom", "shape", "几何", "空间信息", "wkt几何"}
_DATUM_HINTS = (("bd09", ("bd09", "bd", "baidu", "百度")),
                ("gcj02", ("gcj02", "gcj", "gd", "gaode", "amap", "高德", "火星", "腾讯", "tencent", "qq")),
                ("wgs84", ("wgs84", "wgs", "gps")),
                ("cgcs2000", ("cgcs2000", "cgcs", "2000国家大地坐标", "国家2000")))
_WKT_VALUE = re.compile(r"^\s*(SRID=\d+;\s*)?(MULTI)?(POINT|LINESTRING|POLYGON)|^\s*GEOMETRYCOLLECTION", re.I)
_NORMALISE = re.compile(r"[\s_\-()（）\[\]【】:：.]+")


@dataclass(frozen=True)
class CoordinateColumns:
    """Which columns hold the coordinates; ``datum_hint`` is what their names say, if anything."""

    lon: str | None = None
    lat: str | None = None
    pair: str | None = None
    wkt: str | None = None
    datum_hint: str | None = None
    hint_column: str | None = None

    @property
    def found(self) -> bool:
        return bool((self.lon and self.lat) or self.pair or self.wkt)


@dataclass(frozen=True)
class DatumSuggestion:
    """A proposed datum with the reasons, and whether the columns look swapped."""

    datum: str
    confidence: str
    reasons: tuple[str, ...] = field(default_factory=tuple)
    swapped: bool = False

    def message(self) -> str:
        label = INPUT_DATUMS[self.datum].en
        return f"suggested: {label} ({self.confidence} confidence): " + "; ".join(self.reasons)


def check_input_datum(datum: str) -> str:
    """Normalise a datum name given by a user (``GCJ-02``, ``EPSG:4548``...) or raise DatumError."""
    key = str(datum).strip().lower().replace("-", "").replace("_", "")
    key = {"gcj02": "gcj02", "bd09": "bd09", "wgs84": "wgs84", "epsg4326": "wgs84", "4326": "wgs84",
           "cgcs2000": "cgcs2000", "epsg4490": "cgcs2000", "4490": "cgcs2000"}.get(key, key)
    if key.isdigit():
        key = f"epsg:{key}"
    if key.startswith("epsg") and ":" not in key:
        key = "epsg:" + key[4:]
    if key not in INPUT_DATUMS:
        raise DatumError(f"unknown coordinate system {datum!r}: use one of {', '.join(INPUT_DATUMS)}")
    return key


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a text file as UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (GBK)."""
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefusedError("the file contains binary data (NUL bytes), not text: it is not a CSV file")
    for encoding in (("utf-16",) if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "gb18030")):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ImportRefusedError(
        "the text is neither UTF-8 nor GB18030/GBK: save the table as 'CSV UTF-8' and upload it again")


def _delimiter(text: str) -> str:
    sample = text[:20_000]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return "\t" if sample.count("\t") > sample.count(",") else ","


def count_rows(text: str | bytes) -> int:
    """The rows after the header of a CSV without quotes: its lines (ended by LF, CRLF or CR, the
    last one possibly unended), less one. With quotes a value may span lines: an upper bound.
    Bytes are counted as they are (UTF-8 and GB18030 never use CR or LF inside a character).
    CRs are counted only if the beginning has one: a file that starts with LF line ends and
    later has lone CRs is under-counted, and then checked after the parse."""
    lf, cr, crlf = ("\n", "\r", "\r\n") if isinstance(text, str) else (b"\n", b"\r", b"\r\n")
    ends = text.count(lf)  # type: ignore[arg-type]
    if cr in text[:_SNIFF_BYTES]:  # type: ignore[operator]  # CRLF or CR line ends (only LF is one pass)
        ends += text.count(cr) - text.count(crlf)  # type: ignore[arg-type]
    lines = ends + (0 if text.endswith((lf, cr)) else 1)  # type: ignore[arg-type]
    return max(lines - 1, 0)


_SNIFF_BYTES = 80_000
_PLAIN_DECIMAL_RE = re.compile(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?\Z")


def _csv_source(data: bytes) -> tuple[str, str | None]:
    """The encoding to read a CSV with and the text of its beginning (for the delimiter); as
    ``decode_text`` decides, but without decoding a whole UTF-8 or GB18030 file (the CSV reader
    decodes it, strictly, and a UTF-8 failure there is retried as GB18030). For UTF-16 the
    whole text is returned as the second item's source instead: ``(encoding, None)``."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", None
    if b"\x00" in data[:4096]:
        decode_text(data[:4096])  # refuses binary data with decode_text's message
    head = data[:_SNIFF_BYTES]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(data) <= _SNIFF_BYTES)
        return "utf-8-sig", head.decode("utf-8-sig", errors="ignore")
    except UnicodeDecodeError:
        return "gb18030", head.decode("gb18030", errors="ignore")


def read_csv_table(data: bytes, *, max_rows: int, max_columns: int) -> pd.DataFrame:
    """Read a CSV/TSV as a table of strings, refusing malformed rows with their line number."""
    return read_csv_columns(data, max_rows=max_rows, max_columns=max_columns)[0]


def read_csv_columns(data: bytes, *, max_rows: int, max_columns: int
                     ) -> tuple[pd.DataFrame, dict[str, NDArray[np.float64]]]:
    """Read a CSV/TSV as a table of strings (each cell's text as in the file), and the numbers of
    the columns that hold only plain decimal numbers.

    The row count is checked on the bytes before anything is parsed (a quoted value may hold line
    breaks: then the count is checked after the parse). pyarrow's CSV reader reads every cell as a
    string (in C++, without a Python string per cell); files it refuses or might read differently
    from pandas (ragged rows, duplicate or quoted column names) are read by pandas, every cell a
    string, as before. The numbers are cast from the text in C++ where every cell is a number.

    Returns
    -------
    table : pandas.DataFrame
        Strings, columns named by :func:`unique_column_names`.
    numbers : dict of str to numpy.ndarray
        Float64 values of the columns whose every cell is a plain number, by (unique) name.

    Raises
    ------
    ImportRefusedError, LimitExceededError
    """
    encoding, head = _csv_source(data)
    if head is None:  # UTF-16: decoded whole, as before
        text, encoding = decode_text(data)
        head, source = text, text
    else:
        source = None
    if len(data) <= _SNIFF_BYTES or not head.strip():
        if not (source if source is not None else decode_text(data)[0]).strip():
            raise ImportRefusedError("the file is empty: it has no header and no rows")
    rows = count_rows(source if source is not None else data)
    quoted = ('"' in source) if source is not None else (b'"' in data)
    if rows > max_rows and not quoted:
        raise LimitExceededError("feature count", actual=rows, allowed=max_rows,
                                 advice="split the table or filter it to the area you need")
    delimiter = _delimiter(head)
    arrow = _arrow_table(data, source, encoding, head, delimiter, max_columns)
    if arrow is not None:
        table, numbers = arrow
    else:
        table, numbers = _pandas_table(data, source, encoding, delimiter, max_rows if rows > max_rows else None), {}
    if len(table) > max_rows:
        raise LimitExceededError("feature count", actual=len(table), allowed=max_rows,
                                 more_than=arrow is None and rows > max_rows,
                                 advice="split the table or filter it to the area you need")
    table = _check_table(table, max_rows=max_rows, max_columns=max_columns)
    return table, {table.columns[position]: values for position, values in numbers.items()}


def _pandas_table(data: bytes, source: str | None, encoding: str, delimiter: str, max_rows: int | None
                  ) -> pd.DataFrame:
    """Every cell as a string, read by pandas (stopping one row past ``max_rows`` if given)."""
    options: dict[str, object] = {"sep": delimiter, "dtype": str, "keep_default_na": False, "na_filter": False,
                                  "engine": "c", "skip_blank_lines": False}
    if max_rows is not None:
        options["nrows"] = max_rows + 1
    try:
        if source is not None:
            return pd.read_csv(io.StringIO(source), **options)
        try:
            return pd.read_csv(io.BytesIO(data), encoding=encoding, **options)
        except UnicodeDecodeError:
            if encoding != "utf-8-sig":
                raise
            return pd.read_csv(io.BytesIO(data), encoding="gb18030", **options)
    except pd.errors.ParserError as exc:
        raise ImportRefusedError(f"the CSV is malformed: {exc}; check the quoting and the delimiter") from exc
    except UnicodeDecodeError as exc:
        raise ImportRefusedError("the text is neither UTF-8 nor GB18030/GBK: save the table as 'CSV UTF-8'"
                                 " and upload it again") from exc
    except (pd.errors.EmptyDataError, ValueError, UnicodeError) as exc:
        raise ImportRefusedError(f"the CSV cannot be read ({exc})") from exc


def _arrow_table(data: bytes, source: str | None, encoding: str, head: str, delimiter: str, max_columns: int
                 ) -> tuple[pd.DataFrame, dict[int, NDArray[np.float64]]] | None:
    """Every cell as a string, read by pyarrow; None where pandas might read the file otherwise."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    lines = head.lstrip("\ufeff").splitlines()
    first_line = lines[0] if lines else ""
    header = first_line.split(delimiter)
    if not first_line or len(header) > max_columns or len(set(header)) != len(header) or '"' in first_line:
        return None  # pandas renames duplicate names; a quoted name may hold the delimiter or a line break
    if source is None and encoding != "utf-8-sig":
        try:
            source = data.decode(encoding)
        except UnicodeDecodeError:
            return None
    names = [f"f{i}" for i in range(len(header))]
    # The system allocator and one thread: pyarrow's own pool and its threads' buffers kept twice
    # the memory of a pandas read at its peak, for no gain in time on two busy cores. Large
    # strings are what pandas' str dtype holds: read as such, they are not copied again.
    pool = pa.system_memory_pool()
    try:
        read = pacsv.read_csv(
            io.BytesIO(data if source is None else source.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={name: pa.large_string() for name in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
            memory_pool=pool)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError):
        return None
    if any(column.null_count for column in read.columns):
        return None  # a short row (a blank line): pandas fills it in
    as_str = {pa.string(): pd.StringDtype("pyarrow", na_value=np.nan),
              pa.large_string(): pd.StringDtype("pyarrow", na_value=np.nan)}
    table = read.to_pandas(types_mapper=as_str.get, memory_pool=pool)
    table.columns = header
    numbers = {}
    for position, column in enumerate(read.columns):
        # only plain decimals (no inf, nan, degrees or decimal commas): read exactly as parse_numbers reads them
        sample = column.slice(0, 64).to_pylist()
        if not sample or not all(_PLAIN_DECIMAL_RE.match(value) for value in sample):
            continue  # a text column: not even its first cells are numbers
        try:
            values = pc.cast(column, pa.float64(), memory_pool=pool).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        if np.isfinite(values).all():  # "nan", "inf"... are left to parse_numbers
            numbers[position] = values
    return table, numbers


def read_xlsx_table(data: bytes, *, max_rows: int, max_columns: int) -> pd.DataFrame:
    """Read the first sheet of an XLSX workbook as a table of strings (openpyxl + defusedxml)."""
    try:
        table = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=str, engine="openpyxl",
                              keep_default_na=False, na_filter=False)
    # openpyxl reports a damaged workbook through a zoo of exception types (zipfile, XML, KeyError
    # for a missing part, TypeError for a bad style...); every one means "cannot be read".
    except Exception as exc:  # noqa: BLE001
        raise ImportRefusedError(f"the workbook cannot be read ({type(exc).__name__}: {exc}):"
                                 " save it again as .xlsx") from exc
    return _check_table(table, max_rows=max_rows, max_columns=max_columns)


def _check_table(table: pd.DataFrame, *, max_rows: int, max_columns: int) -> pd.DataFrame:
    if table.shape[1] > max_columns:
        raise LimitExceededError("column count", actual=table.shape[1], allowed=max_columns)
    if len(table) > max_rows:
        raise LimitExceededError("feature count", actual=len(table), allowed=max_rows,
                                 advice="split the table or filter it to the area you need")
    table.columns = unique_column_names(table.columns)
    return table.reset_index(drop=True)


def unique_column_names(columns: object) -> list[str]:
    """Column names as short, unique, non-empty strings (``geometry`` is reserved)."""
    names: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(columns):  # type: ignore[arg-type]
        name = "".join(ch for ch in str(raw) if ch.isprintable()).strip()[:80] or f"column_{position + 1}"
        if name.lower() == "geometry" or name.startswith("Unnamed: "):
            name = f"{name}_{position + 1}" if name.lower() == "geometry" else f"column_{position + 1}"
        base, counter = name, 2
        while name in seen:
            name, counter = f"{base}_{counter}", counter + 1
        seen.add(name)
        names.append(name)
    return names


def _normalise(name: str) -> str:
    return _NORMALISE.sub("", name.lower())


def _hint(name: str) -> str | None:
    normalised = _normalise(name)
    for datum, words in _DATUM_HINTS:
        for word in words:
            short = word.isascii() and len(word) <= 2
            if (normalised.startswith(word) or normalised.endswith(word)) if short else word in normalised:
                return datum
    return None


def _strip_hint(name: str) -> str:
    normalised = _normalise(name)
    for _, words in _DATUM_HINTS:
        for word in sorted(words, key=len, reverse=True):
            if normalised.startswith(word) and normalised[len(word):]:
                normalised = normalised[len(word):]
            elif normalised.endswith(word) and normalised[:-len(word)]:
                normalised = normalised[:-len(word)]
    return normalised


def detect_columns(table: pd.DataFrame) -> CoordinateColumns:
    """Find longitude/latitude (or a coordinate pair, or WKT) columns by name, in English and Chinese."""
    lon = lat = pair = wkt = None
    for name in table.columns:
        core = _strip_hint(name)
        if pair is None and core in _PAIR_NAMES:
            pair = name
        elif lon is None and (core in _LON_NAMES or core.endswith("经度")):
            lon = name
        elif lat is None and (core in _LAT_NAMES or core.endswith("纬度")):
            lat = name
        elif wkt is None and core in _WKT_NAMES:
            wkt = name
    if wkt is None and not (lon and lat) and pair is None:
        for name in table.columns:
            sample = table[name].head(20)
            if len(sample) and sample.map(lambda v: bool(_WKT_VALUE.match(str(v)))).mean() > 0.5:
                wkt = name
                break
    hint_column = next((c for c in (lon, lat, pair, wkt) if c and _hint(c)), None)
    return CoordinateColumns(lon=lon, lat=lat, pair=pair, wkt=wkt,
                             datum_hint=_hint(hint_column) if hint_column else None, hint_column=hint_column)


def parse_numbers(values: pd.Series) -> NDArray[np.float64]:
    """Numbers from strings such as ``116.39``, `` 116.39° `` or ``116,39`` (decimal comma); NaN otherwise."""
    cleaned = values.astype(str).str.strip().str.replace("°", "", regex=False)
    comma_decimal = cleaned.str.fullmatch(r"-?\d+,\d+")
    cleaned = cleaned.where(~comma_decimal, cleaned.str.replace(",", ".", regex=False))
    return pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=np.float64)


def parse_pairs(values: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Split ``"116.39,39.91"`` (or ``;``, space) cells into two arrays."""
    parts = values.astype(str).str.strip().str.split(r"\s*[,;，\s]\s*", n=1, regex=True, expand=True)
    if parts.shape[1] < 2:
        nan = np.full(len(values), np.nan)
        return nan, nan.copy()
    return parse_numbers(parts[0].fillna("")), parse_numbers(parts[1].fillna(""))


def _inside_beijing(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    west, south, east, north = BEIJING_BBOX
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _share_in_beijing(x: NDArray[np.float64], y: NDArray[np.float64], datum: str) -> float:
    lon, lat = to_wgs84(x, y, datum=datum)
    finite = np.isfinite(lon) & np.isfinite(lat)
    return float(_inside_beijing(lon[finite], lat[finite]).mean()) if finite.any() else 0.0


def suggest_datum(x: NDArray[np.float64], y: NDArray[np.float64], *,
                  hint: str | None = None, hint_column: str | None = None) -> DatumSuggestion:
    """Propose the datum of coordinates ``x`` (first/longitude column) and ``y``.

    Metres are matched to the CGCS2000 Gauss-Krüger zone that puts the points in Beijing;
    swapped columns are detected; between WGS84, GCJ-02 and BD-09 only column names can decide.
    """
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return DatumSuggestion("wgs84", "low", ("no numeric coordinates were found",))
    mx, my = float(np.median(x[finite])), float(np.median(y[finite]))
    xs, ys = x[finite], y[finite]
    if abs(mx) > 360 or abs(my) > 360:
        return _suggest_projected(xs, ys, mx, my)
    swapped = 3 <= mx <= 54 and 73 <= my <= 136
    reasons = []
    if swapped:
        reasons.append(f"the longitude column holds values around {mx:.2f} and the latitude column around"
                       f" {my:.2f}: the columns look swapped; swap them")
        xs, ys, mx, my = ys, xs, my, mx
    if not (73 <= mx <= 136 and 3 <= my <= 54):
        reasons.append(f"the median point ({mx:.4f}, {my:.4f}) is not in China: check the columns")
        return DatumSuggestion("wgs84", "low", tuple(reasons), swapped)
    if hint:
        reasons.append(f"column {hint_column!r} names {INPUT_DATUMS[hint].en.split(' (')[0]}")
        return DatumSuggestion(hint, "high", tuple(reasons), swapped)
    reasons.append("the numbers cannot tell WGS84 from GCJ-02 or BD-09 (they differ by 300-1,000 m):"
                   " choose GCJ-02 for Gaode/Amap or Chinese business-database exports, BD-09 for Baidu")
    return DatumSuggestion("wgs84", "low", tuple(reasons), swapped)


def _suggest_projected(xs: NDArray[np.float64], ys: NDArray[np.float64], mx: float, my: float) -> DatumSuggestion:
    swapped = 4.0e6 <= mx <= 4.9e6 and (1e5 <= my <= 9e5 or 38e6 <= my <= 41e6)
    if swapped:
        xs, ys, mx, my = ys, xs, my, mx
    lead = (f"values look like metres (median {mx:,.0f}, {my:,.0f}), so a projected CGCS2000 Gauss-Krüger grid"
            + ("; the easting and northing columns look swapped: swap them" if swapped else ""))
    if not 4.0e6 <= my <= 4.9e6:
        return DatumSuggestion("epsg:4548", "low", (lead, f"but the northing {my:,.0f} is not Beijing's"
                                                    " (about 4.37-4.55 million m): check the file's EPSG code"), swapped)
    for code, (low, high) in _ZONE_PREFIX_RANGES.items():
        if low <= mx < high:
            return DatumSuggestion(code, "high", (lead, f"the easting starts with zone number {int(mx // 1e6)}"),
                                   swapped)
    shares = {code: _share_in_beijing(xs, ys, code) for code in _PLAIN_GK}
    best = max(_PLAIN_GK, key=lambda code: shares[code])
    confidence = "high" if shares[best] > 0.5 else "low"
    return DatumSuggestion(best, confidence, (lead, f"{shares[best]:.0%} of the points fall in Beijing with"
                                              f" {INPUT_DATUMS[best].en.split(', ')[1].split(' (')[0]}"), swapped)


def to_wgs84(x: NDArray[np.float64], y: NDArray[np.float64], *, datum: str
             ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert coordinates in one of ``INPUT_DATUMS`` to WGS84 longitude/latitude (whole arrays)."""
    code = check_input_datum(datum)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if code in _OFFSET_DATUMS:
        return convert(x, y, source=code, target="wgs84")
    source = 4490 if code == "cgcs2000" else _PROJECTED[code]
    transformer = Transformer.from_crs(source, 4326, always_xy=True)
    with np.errstate(invalid="ignore"):
        lon, lat = transformer.transform(x, y, errcheck=False)
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    lon[bad], lat[bad] = np.nan, np.nan
    return lon, lat
