"""What a file really is, from its bytes: the type by magic bytes and contents (a CSV named .xls, HTML saved as
.xls, a password-protected workbook), read once from a regular file only."""
from __future__ import annotations

import errno
import io
import os
import stat
import struct
import zipfile
from pathlib import Path

from pipeline.core.outcome import Refused
from pipeline.runtime.limits import ReadLimits

ZIP_MAGIC = (b'PK\x03\x04', b'PK\x05\x06', b'PK\x07\x08')  # not bare b'PK': a CSV may start with it
NON_SPREADSHEET_MAGIC = {
    b'\x89PNG': 'PNG image', b'\xff\xd8\xff': 'JPEG image', b'GIF8': 'GIF image',
    b'II*\x00': 'TIFF image', b'MM\x00*': 'TIFF image', b'{\\rtf': 'RTF document',
    b'Rar!': 'RAR archive', b"7z\xbc\xaf'\x1c": '7z archive', b'\x1f\x8b': 'gzip archive',
}
CSV_EXTENSIONS = frozenset({'csv', 'tsv', 'xls', 'xlsx', 'xlsm', 'ods', ''})
TEXT_BYTES = bytes(range(32, 256)) + b'\t\n\r\x0b\x0c\x1a\x1b'
# A DTD is the only way to declare entities; office XML never has one (XML names are case-sensitive).
# Every member is searched, whatever its name (a sheet part may be called anything its .rels says),
# in UTF-8 and in UTF-16 (which calamine does not parse today, but might tomorrow).
DOCTYPE_MARKERS = tuple(marker.encode(codec) for marker in ('<!DOCTYPE', '<!ENTITY')
                        for codec in ('utf-8', 'utf-16-le', 'utf-16-be'))


def detect_kind(path) -> str:
    """Return the real file type, judged by magic bytes first and the extension second."""
    try:
        data, _ = read_regular_file(os.fspath(path), ReadLimits().max_file_bytes)
    except Refused:
        return 'unknown'
    return classify(data, extension_of(path))[0]


def extension_of(path) -> str:
    return Path(os.fspath(path)).suffix.lower().lstrip('.')


def classify(data: bytes, extension: str) -> tuple[str, str | None, str]:
    """Return (kind, problem or None, detail); problem None means the kind has a parser."""
    if not data:
        return 'empty', 'empty_file', '0 bytes'
    if data.startswith(ZIP_MAGIC):
        return classify_zip(data, extension)
    if data.startswith(OLE2_MAGIC):
        return classify_ole2(data, extension)
    if data.startswith(b'%PDF'):
        return 'pdf', 'not_a_spreadsheet', 'PDF document'
    for magic, name in NON_SPREADSHEET_MAGIC.items():
        if data.startswith(magic):
            return 'unknown', 'not_a_spreadsheet', name
    if not looks_like_text(data[:8192]):
        return 'unknown', 'unsupported_type', 'unrecognised binary format'
    head = (decode_text(data[:4096]) or data[:4096].decode('latin-1')).lstrip().lower()
    if head.startswith('mime-version:') or (head.startswith('<') and any(
            tag in head for tag in ('<html', '<table', '<!doctype html'))):
        return 'html', 'html_not_excel', 'HTML page (a web system export saved with a spreadsheet name?)'
    if 'urn:schemas-microsoft-com:office:spreadsheet' in head:
        return 'unknown', 'unsupported_type', 'Excel 2003 XML spreadsheet (save as .xlsx)'
    return ('csv' if extension in CSV_EXTENSIONS else 'text'), None, ''


def classify_zip(data: bytes, extension: str) -> tuple[str, str | None, str]:
    """Tell xlsx/xlsm/ods from other zips by their parts."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            with (archive.open('mimetype') if 'mimetype' in names else io.BytesIO()) as stream:
                mimetype = stream.read(80)
    except Exception as error:  # BadZipFile, zlib.error, EOFError, NotImplementedError...
        kind = extension if extension in ('xlsx', 'xlsm', 'ods') else 'zip'
        return kind, 'corrupt', f'unreadable zip archive ({type(error).__name__})'
    if 'xl/workbook.xml' in names:
        return ('xlsm' if 'xl/vbaProject.bin' in names or extension == 'xlsm' else 'xlsx'), None, ''
    if 'xl/workbook.bin' in names:
        return 'zip', 'unsupported_type', 'xlsb binary workbook (save as .xlsx)'
    if mimetype.startswith(b'application/vnd.oasis.opendocument.spreadsheet') or (
            not mimetype and 'content.xml' in names and extension == 'ods'):
        return 'ods', None, ''
    return 'zip', 'not_a_spreadsheet', 'zip archive without workbook parts'


def classify_ole2(data: bytes, extension: str) -> tuple[str, str | None, str]:
    """Tell .xls from Office-encrypted files (an encrypted xlsx is OLE2, not zip) and Word/PowerPoint."""
    if ole2_has_stream(data, 'EncryptionInfo') or ole2_has_stream(data, 'EncryptedPackage'):
        kind = extension if extension in ('xlsx', 'xlsm', 'xls') else 'unknown'
        return kind, 'encrypted', 'password-protected Office file (OLE2 EncryptionInfo stream)'
    if ole2_has_stream(data, 'Workbook') or ole2_has_stream(data, 'Book'):
        return 'xls', None, ''
    return 'unknown', 'not_a_spreadsheet', 'OLE2 document without a workbook stream'


def ole2_has_stream(data: bytes, name: str) -> bool:
    """True when the OLE2 directory holds a stream called `name`.

    Directory entries sit on 128-byte boundaries (name in UTF-16LE, then its byte length and type 2
    for a stream), so a byte search finds them without walking a FAT that may itself be damaged.
    """
    encoded = (name + '\0').encode('utf-16-le')
    signature = struct.pack('<HB', len(encoded), 2)
    position = data.find(encoded, 512)
    while position != -1:
        if position % 128 == 0 and data[position + 64:position + 67] == signature:
            return True
        position = data.find(encoded, position + 1)
    return False


def looks_like_text(head: bytes) -> bool:
    """Text has a UTF-16 BOM or few control bytes once NULs (left by interrupted copies) are gone."""
    if head.startswith((b'\xff\xfe', b'\xfe\xff')):
        return True
    sample = head.replace(b'\0', b'')
    return len(sample.translate(None, TEXT_BYTES)) * 20 <= len(sample)


def decode_text(data: bytes) -> str | None:
    """Decode by BOM (UTF-8, UTF-16 LE/BE), then strict UTF-8, then cp874; None when none fits."""
    for bom, codec in ((b'\xef\xbb\xbf', 'utf-8'), (b'\xff\xfe', 'utf-16-le'), (b'\xfe\xff', 'utf-16-be')):
        if data.startswith(bom):
            body = data[len(bom):]
            if codec == 'utf-8':
                return strict_decode(body.replace(b'\0', b''), codec)
            text = strict_decode(body[:len(body) // 2 * 2], codec)  # an odd byte: file cut mid-character
            return None if text is None else text.replace('\0', '')
    data = data.replace(b'\0', b'')
    for codec in ('utf-8', 'cp874'):
        text = strict_decode(data, codec)
        if text is not None:
            return text
    return None


def strict_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        # A file still being copied may end inside a multi-byte character: keep what precedes it.
        if error.reason == 'unexpected end of data' and error.end == len(data):
            return strict_decode(data[:error.start], codec)
        return None


def unicode_name(name: str) -> str:
    """A file or folder name as valid Unicode text, fit for the store and the reports.

    Linux names are bytes: a zip made on Thai Windows extracts with cp874 names, which Python holds
    as lone surrogates that no UTF-8 writer accepts. Those are decoded as cp874, else shown escaped.
    """
    try:
        name.encode('utf-8')
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
    try:
        return raw.decode('cp874')
    except UnicodeDecodeError:
        return raw.decode('utf-8', 'backslashreplace')


OLE2_MAGIC = b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1'


def read_regular_file(path: str, max_bytes: int) -> tuple[bytes, int]:
    """Return (content, size) of a regular file; only a head when it is over max_bytes.

    The whole file is read once so every check sees the same bytes even while a district is still
    writing it; symlinks, FIFOs and devices in a world-writable folder are refused.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Refused('unsupported_type', 'symbolic link refused') from None
        raise Refused('corrupt', f'cannot open ({type(error).__name__})') from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):  # before fdopen, which raises on a directory
        os.close(descriptor)
        raise Refused('unsupported_type', 'not a regular file')
    with os.fdopen(descriptor, 'rb') as handle:
        # One byte over the limit notices a file that grows while it is read.
        return handle.read(max_bytes + 1 if info.st_size <= max_bytes else 65536), info.st_size
