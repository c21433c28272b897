"""Tests for pipeline.sources.readers on real files built in tmp_path (no fixtures checked in)."""
import datetime
import os
import re
from dataclasses import replace
import signal
import struct
import time
import zipfile

import openpyxl
import pandas
import pytest

from pipeline.core.outcome import cell_count
from pipeline.runtime import processes
from pipeline.runtime.limits import ReadLimits
from pipeline.sources import readers
from pipeline.sources.handoff import HANDOFF_SUFFIX, read_handoff, save_handoff
from pipeline.sources.readers import read_file, read_files
from pipeline.sources.sniff import detect_kind

THAI_ROWS = [['อำเภอ', 'ชื่อ', 'โทร'], ['เมืองราชบุรี', 'นายสมชาย ใจดี', '0812345678'], ['บ้านโป่ง', 'นางสาวสมหญิง', '0898765432']]


# ---------------------------------------------------------------- builders

def build_xlsx(path):
    """A district workbook: title rows, merged title, a sheet starting at C5, hidden sheets."""
    workbook = openpyxl.Workbook()
    report = workbook.active
    report.title = 'รายงาน'
    report['A1'] = 'รายงานผู้ฉีดวัคซีน จังหวัดราชบุรี'
    report.merge_cells('A1:D1')
    report.append([])
    report.append(['ชื่อ', 'โทร', 'วันที่', 'เข็ม'])
    report.append(['นายสมชาย', '0812345678', datetime.date(2021, 12, 20), 2])
    offset = workbook.create_sheet('offset')
    offset['C5'], offset['D5'] = 'หัวข้อ', 'ค่า'
    offset['C6'], offset['D6'] = 'a', 1.5
    hidden = workbook.create_sheet('hidden')
    hidden['A1'] = 'secret'
    hidden.sheet_state = 'hidden'
    very_hidden = workbook.create_sheet('very hidden')
    very_hidden['B2'] = 'x'
    very_hidden.sheet_state = 'veryHidden'
    workbook.save(path)
    return path


def build_small_xlsx(path, value='x'):
    workbook = openpyxl.Workbook()
    workbook.active['A1'] = value
    workbook.save(path)
    return path


def rewrite_member(source, target, member, transform):
    """Copy a zip, passing one member's bytes through `transform`."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, 'w', zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            copy.writestr(info.filename, transform(data) if info.filename == member else data)
    return target


def compound_file(streams):
    """Minimal OLE2/CFB v3 file: sector 0 holds the FAT, sector 1 the directory, then the streams
    (each padded to >= 4096 bytes so it lives in regular sectors, not the mini stream)."""
    end_of_chain, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    fat, body, entries, next_sector = [fat_sector, end_of_chain], b'', [], 2
    for index, (name, data) in enumerate(streams):
        data = data.ljust(max(4096, -(-len(data) // 512) * 512), b'\0')
        count = len(data) // 512
        fat += list(range(next_sector + 1, next_sector + count)) + [end_of_chain]
        sibling = index + 2 if index + 1 < len(streams) else no_stream
        entries.append((name, 2, next_sector, len(data), no_stream, sibling))
        next_sector += count
        body += data

    def entry(name, kind, start, size, child, right):
        encoded = (name + '\0').encode('utf-16-le')
        return (encoded.ljust(64, b'\0') + struct.pack('<HBBIII', len(encoded), kind, 1, no_stream, right, child)
                + b'\0' * 36 + struct.pack('<IQ', start, size))

    directory = entry('Root Entry', 5, end_of_chain, 0, 1, no_stream) + b''.join(entry(*item) for item in entries)
    header = (bytes.fromhex('D0CF11E0A1B11AE1') + b'\0' * 16 + struct.pack('<HHHHH', 0x3E, 3, 0xFFFE, 9, 6) + b'\0' * 6
              + struct.pack('<IIIIIIIII', 0, 1, 1, 0, 4096, end_of_chain, 0, end_of_chain, 0)
              + struct.pack('<I', 0) + struct.pack('<I', free) * 108)
    fat_bytes = b''.join(struct.pack('<I', value) for value in fat).ljust(512, b'\xff')
    return header + fat_bytes + directory.ljust(512, b'\0') + body


def biff8_workbook_stream(sheet_name, cells, encrypted=False):
    """BIFF8 'Workbook' stream: globals (BOF, [FILEPASS], CODEPAGE, BOUNDSHEET8, SST, EOF), one sheet."""
    def record(kind, payload):
        return struct.pack('<HH', kind, len(payload)) + payload

    def bof(kind):
        return record(0x0809, struct.pack('<HHHHII', 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))

    strings = [value for _, _, value in cells if isinstance(value, str)]
    shared = struct.pack('<II', len(strings), len(strings)) + b''.join(
        struct.pack('<HB', len(text), 1) + text.encode('utf-16-le') for text in strings)
    name = struct.pack('<BB', len(sheet_name), 1) + sheet_name.encode('utf-16-le')

    def workbook_globals(sheet_offset):
        filepass = record(0x002F, b'\x01\x00' + b'\0' * 52) if encrypted else b''
        return (bof(0x0005) + filepass + record(0x0042, struct.pack('<H', 1200))
                + record(0x0085, struct.pack('<IBB', sheet_offset, 0, 0) + name)
                + record(0x00FC, shared) + record(0x000A, b''))

    rows, columns = [row for row, _, _ in cells], [column for _, column, _ in cells]
    sheet = bof(0x0010) + record(0x0200, struct.pack('<IIHHH', min(rows), max(rows) + 1, min(columns), max(columns) + 1, 0))
    string_index = 0
    for row, column, value in cells:
        if isinstance(value, str):
            sheet += record(0x00FD, struct.pack('<HHHI', row, column, 0, string_index))
            string_index += 1
        else:
            sheet += record(0x0203, struct.pack('<HHHd', row, column, 0, float(value)))
    return workbook_globals(len(workbook_globals(0))) + sheet + record(0x000A, b'')


def single_sheet(outcome):
    assert outcome.problem is None, outcome
    assert len(outcome.sheets) == 1
    return outcome.sheets[0]


# ---------------------------------------------------------------- spreadsheets

def test_xlsx_keeps_positions_text_dates_and_hidden_sheets(tmp_path):
    outcome = read_file(build_xlsx(tmp_path / 'district.xlsx'))
    assert (outcome.kind, outcome.problem, outcome.detail) == ('xlsx', None, '')
    sheets = {sheet.name: sheet for sheet in outcome.sheets}
    assert list(sheets) == ['รายงาน', 'offset', 'hidden', 'very hidden']
    report = sheets['รายงาน']
    assert (report.hidden, report.first_row, report.first_column) == (False, 1, 0)
    assert report.rows[0] == ['รายงานผู้ฉีดวัคซีน จังหวัดราชบุรี', '', '', '']  # merged: value in the top-left cell only
    assert report.merged == (((0, 0), (0, 3)),)   # A1:D1, kept for the feedback copy
    assert report.rows[1] == ['', '', '', '']
    assert report.rows[3] == ['นายสมชาย', '0812345678', datetime.date(2021, 12, 20), 2.0]
    assert isinstance(report.rows[3][1], str) and isinstance(report.rows[3][3], float)
    offset = sheets['offset']
    assert (offset.first_row, offset.first_column) == (5, 2)  # C5
    assert offset.rows == [['หัวข้อ', 'ค่า'], ['a', 1.5]]
    assert sheets['hidden'].hidden and sheets['very hidden'].hidden
    assert (sheets['very hidden'].first_row, sheets['very hidden'].first_column) == (2, 1)


def test_xlsx_renamed_xlsm_is_read_as_xlsm(tmp_path):
    path = tmp_path / 'macro.xlsm'
    build_small_xlsx(path)
    outcome = read_file(path)
    assert (outcome.kind, outcome.problem) == ('xlsm', None)


def test_ods_keeps_offset_and_text_digits(tmp_path):
    path = tmp_path / 'district.ods'
    frame = pandas.DataFrame({'ชื่อ': ['นายสมชาย', 'นางสมศรี'], 'โทร': ['0812345678', '0898765432']})
    frame.to_excel(path, engine='odf', index=False, startrow=3, startcol=2, sheet_name='ข้อมูล')
    outcome = read_file(path)
    assert outcome.kind == 'ods'
    sheet = single_sheet(outcome)
    assert (sheet.name, sheet.first_row, sheet.first_column) == ('ข้อมูล', 4, 2)
    assert sheet.rows == [['ชื่อ', 'โทร'], ['นายสมชาย', '0812345678'], ['นางสมศรี', '0898765432']]


def test_xls_biff8_hand_built(tmp_path):
    # No xls writer is installed (xlwt is not a dependency): the test builds a BIFF8 file byte by byte.
    cells = [(4, 2, 'ชื่อ'), (4, 3, 'โทร'), (5, 2, 'สมชาย'), (5, 3, '0812345678'), (6, 3, 42)]
    path = tmp_path / 'old.xls'
    path.write_bytes(compound_file([('Workbook', biff8_workbook_stream('ข้อมูล', cells))]))
    outcome = read_file(path)
    assert outcome.kind == 'xls'
    sheet = single_sheet(outcome)
    assert (sheet.name, sheet.first_row, sheet.first_column) == ('ข้อมูล', 5, 2)
    assert sheet.rows == [['ชื่อ', 'โทร'], ['สมชาย', '0812345678'], ['', 42.0]]


def test_encrypted_office_file_is_an_ole2_container(tmp_path):
    path = tmp_path / 'locked.xlsx'
    path.write_bytes(compound_file([('EncryptionInfo', b'\x04\x00\x04\x00' + b'\0' * 60), ('EncryptedPackage', b'\x01' * 5000)]))
    outcome = read_file(path)
    assert (outcome.kind, outcome.problem, outcome.sheets) == ('xlsx', 'encrypted', ())


def test_encrypted_xls_filepass_gives_calamine_password_error(tmp_path):
    path = tmp_path / 'locked.xls'
    path.write_bytes(compound_file([('Workbook', biff8_workbook_stream('a', [(0, 0, 'x')], encrypted=True))]))
    assert (read_file(path).kind, read_file(path).problem) == ('xls', 'encrypted')


def test_ole2_without_workbook_stream_is_not_a_spreadsheet(tmp_path):
    path = tmp_path / 'letter.xls'
    path.write_bytes(compound_file([('WordDocument', b'\0' * 100)]))
    assert read_file(path).problem == 'not_a_spreadsheet'


def test_workbook_without_cells_is_empty(tmp_path):
    path = tmp_path / 'blank.xlsx'
    openpyxl.Workbook().save(path)
    outcome = read_file(path)
    assert (outcome.kind, outcome.problem) == ('xlsx', 'empty_file')


def test_rows_per_sheet_limit(tmp_path):
    workbook = openpyxl.Workbook()
    for row in range(1, 12):
        workbook.active.cell(row, 1, row)
    workbook.save(tmp_path / 'tall.xlsx')
    assert read_file(tmp_path / 'tall.xlsx', ReadLimits(max_rows_per_sheet=10)).problem == 'too_many_cells'
    assert read_file(tmp_path / 'tall.xlsx', ReadLimits(max_rows_per_sheet=11)).problem is None


# ---------------------------------------------------------------- CSV and text

@pytest.mark.parametrize('encoding', ['utf-8', 'utf-8-sig', 'cp874', 'utf-16'])
def test_csv_encodings_with_thai_text(tmp_path, encoding):
    path = tmp_path / f'district-{encoding}.csv'
    path.write_bytes('\r\n'.join(','.join(row) for row in THAI_ROWS).encode(encoding))
    outcome = read_file(path)
    assert outcome.kind == 'csv'
    sheet = single_sheet(outcome)
    assert (sheet.name, sheet.first_row, sheet.first_column, sheet.hidden) == (f'district-{encoding}', 1, 0, False)
    assert sheet.rows == THAI_ROWS


@pytest.mark.parametrize('delimiter', [';', '\t', '|'])
def test_csv_delimiter_is_sniffed(tmp_path, delimiter):
    path = tmp_path / 'district.csv'
    path.write_text('\n'.join(delimiter.join(row) for row in THAI_ROWS + [['x', '1,5', '0812345678']]), encoding='utf-8')
    assert single_sheet(read_file(path)).rows == THAI_ROWS + [['x', '1,5', '0812345678']]


def test_csv_cut_mid_row_and_mid_character_keeps_what_is_there(tmp_path):
    data = 'ชื่อ,โทร\nนายสมชาย,0812345678\nนางสม'.encode('utf-8')[:-1]  # last Thai character cut in half
    path = tmp_path / 'copying.csv'
    path.write_bytes(data)
    assert single_sheet(read_file(path)).rows == [['ชื่อ', 'โทร'], ['นายสมชาย', '0812345678'], ['นางส']]


def test_csv_nul_bytes_are_stripped_and_control_characters_kept(tmp_path):
    path = tmp_path / 'odd.csv'
    path.write_bytes(b'a,b\x00\x00\nx\x01y,"line\nbreak"\n' + b'\x00' * 50)
    assert single_sheet(read_file(path)).rows == [['a', 'b'], ['x\x01y', 'line\nbreak']]


def test_csv_cells_stay_text(tmp_path):
    path = tmp_path / 'numbers.csv'
    path.write_text('id,phone\n0001,0812345678\n1e5,=1+1\n', encoding='utf-8')
    assert single_sheet(read_file(path)).rows == [['id', 'phone'], ['0001', '0812345678'], ['1e5', '=1+1']]


def test_unknown_encoding(tmp_path):
    path = tmp_path / 'weird.csv'
    path.write_bytes(b'a,b\n\xdb\xdc,\xfc\xfd\n')  # undefined in cp874 and invalid UTF-8
    assert read_file(path).problem == 'unknown_encoding'


def test_csv_renamed_xlsx_is_read_as_csv(tmp_path):
    path = tmp_path / 'export.xlsx'
    path.write_text('a\tb\n1\t2\n', encoding='utf-8')
    outcome = read_file(path)
    assert (outcome.kind, outcome.problem) == ('csv', None)
    assert outcome.sheets[0].rows == [['a', 'b'], ['1', '2']]


def test_text_file_is_text_kind(tmp_path):
    path = tmp_path / 'note.txt'
    path.write_text('ส่งข้อมูลช้า\n', encoding='utf-8')
    outcome = read_file(path)
    assert (outcome.kind, outcome.problem, outcome.sheets[0].rows) == ('text', None, [['ส่งข้อมูลช้า']])


def test_csv_cell_limit(tmp_path):
    path = tmp_path / 'wide.csv'
    path.write_text('a,b,c\n1,2,3\n', encoding='utf-8')
    assert read_file(path, ReadLimits(max_cells=5)).problem == 'too_many_cells'


@pytest.mark.parametrize('content', [b'', b'\n\n\r\n', b',,,\n,,\n', b'\x00' * 100])
def test_empty_files(tmp_path, content):
    path = tmp_path / 'empty.csv'
    path.write_bytes(content)
    outcome = read_file(path)
    assert outcome.problem == 'empty_file'
    assert outcome.kind == ('empty' if not content else 'csv')


# ---------------------------------------------------------------- broken and hostile files

def test_truncated_xlsx_is_corrupt(tmp_path):
    data = build_xlsx(tmp_path / 'full.xlsx').read_bytes()
    path = tmp_path / 'half.xlsx'
    path.write_bytes(data[:len(data) // 2])
    assert (read_file(path).kind, read_file(path).problem) == ('xlsx', 'corrupt')


def test_bit_flipped_xlsx_is_corrupt(tmp_path):
    path = build_xlsx(tmp_path / 'flipped.xlsx')
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo('xl/worksheets/sheet1.xml')
    name_length, extra_length = struct.unpack('<HH', data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    for position in range(start + info.compress_size // 3, start + info.compress_size // 3 + 3):
        data[position] ^= 0xFF
    path.write_bytes(bytes(data))
    assert read_file(path).problem == 'corrupt'


def test_html_saved_as_xls(tmp_path):
    path = tmp_path / 'web-export.xls'
    path.write_text('<html xmlns:x="urn:schemas-microsoft-com:office:excel"><body><table><tr><td>ชื่อ</td></tr></table></body></html>', encoding='utf-8')
    outcome = read_file(path)
    assert (outcome.kind, outcome.problem) == ('html', 'html_not_excel')


@pytest.mark.parametrize('name, content, kind, problem', [
    ('scan.xlsx', b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'pdf', 'not_a_spreadsheet'),
    ('photo.xlsx', b'\x89PNG\r\n\x1a\n' + b'\0' * 50, 'unknown', 'not_a_spreadsheet'),
    ('blob.xls', bytes(range(256)) * 4, 'unknown', 'unsupported_type'),
])
def test_non_spreadsheets(tmp_path, name, content, kind, problem):
    path = tmp_path / name
    path.write_bytes(content)
    assert (read_file(path).kind, read_file(path).problem) == (kind, problem)
    assert detect_kind(path) == kind


def test_docx_like_zip_is_not_a_spreadsheet(tmp_path):
    path = tmp_path / 'letter.xlsx'
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('[Content_Types].xml', '<Types/>')
        archive.writestr('word/document.xml', '<document/>')
    assert (read_file(path).kind, read_file(path).problem) == ('zip', 'not_a_spreadsheet')


def declare_size(path, member, size):
    """Patch the uncompressed size that the zip's central directory declares for `member`."""
    data = bytearray(path.read_bytes())
    position = data.find(b'PK\x01\x02')
    while position != -1:
        name_length = struct.unpack('<H', data[position + 28:position + 30])[0]
        if data[position + 46:position + 46 + name_length] == member.encode():
            data[position + 24:position + 28] = struct.pack('<I', size)
        position = data.find(b'PK\x01\x02', position + 4)
    path.write_bytes(bytes(data))
    return path


def test_declared_2_gb_member_is_a_zip_bomb(tmp_path):
    path = declare_size(build_small_xlsx(tmp_path / 'bomb.xlsx'), 'xl/worksheets/sheet1.xml', 2 * 1024**3)
    outcome = read_file(path)
    assert (outcome.kind, outcome.problem) == ('xlsx', 'zip_bomb')


def test_member_larger_than_declared_is_corrupt(tmp_path):
    path = declare_size(build_small_xlsx(tmp_path / 'liar.xlsx'), 'xl/worksheets/sheet1.xml', 10)
    assert read_file(path).problem == 'corrupt'  # refused before calamine, which would inflate it all


def test_high_compression_ratio_is_a_zip_bomb(tmp_path):
    path = tmp_path / 'ratio.xlsx'
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('[Content_Types].xml', '<Types/>')
        archive.writestr('xl/workbook.xml', '<workbook/>')
        archive.writestr('xl/worksheets/sheet1.xml', b'\0' * (20 * 1024**2))
    assert path.stat().st_size < 100_000
    outcome = read_file(path)
    assert outcome.problem == 'zip_bomb' and 'ratio' in outcome.detail


def test_xfd1048576_is_refused_before_calamine(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active['A1'] = 'x'
    workbook.active['XFD1048576'] = 'y'
    path = tmp_path / 'xfd.xlsx'
    workbook.save(path)
    assert read_file(path).problem == 'too_many_cells'  # in this process: calamine would SIGABRT it
    stripped = rewrite_member(path, tmp_path / 'no-dimension.xlsx', 'xl/worksheets/sheet1.xml',
                              lambda xml: re.sub(rb'<dimension ref="A1:XFD1048576"\s*/>', b'', xml))
    assert b'dimension' not in zipfile.ZipFile(stripped).read('xl/worksheets/sheet1.xml')
    assert read_file(stripped).problem == 'too_many_cells'  # found from the far cell reference
    assert [outcome.problem for outcome in read_files([path, stripped])] == ['too_many_cells'] * 2


def read_files_with(paths, *arguments, **keywords):
    """processes.read_and_process reading with the readers, as the pipeline does."""
    return processes.read_and_process(paths, *arguments, reader=keywords.pop("reader", read_file),
                                      kind_of=detect_kind, **keywords)


def test_symlink_and_fifo_are_refused(tmp_path):
    target = build_small_xlsx(tmp_path / 'real.xlsx')
    (tmp_path / 'link.xlsx').symlink_to(target)
    os.mkfifo(tmp_path / 'pipe.csv')
    assert read_file(tmp_path / 'link.xlsx').problem == 'unsupported_type'
    assert read_file(tmp_path / 'pipe.csv').problem == 'unsupported_type'  # would block forever if opened normally
    assert read_file(tmp_path / 'missing.xlsx').problem == 'corrupt'


def test_file_size_limit(tmp_path):
    path = build_small_xlsx(tmp_path / 'big.xlsx')
    outcome = read_file(path, ReadLimits(max_file_bytes=1000))
    assert (outcome.kind, outcome.problem) == ('xlsx', 'file_too_large')


def test_detect_kind_uses_magic_bytes_first(tmp_path):
    xlsx_named_xls = build_small_xlsx(tmp_path / 'really-xlsx.xls')
    csv_named_xlsx = tmp_path / 'really-csv.xlsx'
    csv_named_xlsx.write_text('a,b\n', encoding='utf-8')
    assert detect_kind(xlsx_named_xls) == 'xlsx'
    assert read_file(xlsx_named_xls).sheets[0].rows == [['x']]
    assert detect_kind(csv_named_xlsx) == 'csv'
    assert detect_kind(tmp_path / 'missing') == 'unknown'


# ---------------------------------------------------------------- child processes

def test_read_files_matches_read_file(tmp_path):
    paths = [build_xlsx(tmp_path / 'a.xlsx'), tmp_path / 'b.csv', tmp_path / 'c.xlsx']
    paths[1].write_text('ชื่อ,โทร\nก,0812345678\n', encoding='cp874')
    paths[2].write_bytes(b'')
    assert read_files(paths, workers=2) == [read_file(path) for path in paths]
    assert read_files([]) == []


def test_real_calamine_abort_is_contained(tmp_path):
    # Cells without r= attributes escape every cheap pre-check; calamine then asks for ~549 GB and aborts.
    row = b'<row r="1048576">' + b'<c><v>1</v></c>' * 16384 + b'</row>'
    path = rewrite_member(build_small_xlsx(tmp_path / 'source.xlsx'), tmp_path / 'abort.xlsx', 'xl/worksheets/sheet1.xml',
                          lambda xml: xml.replace(b'</sheetData>', row + b'</sheetData>'))
    good = build_small_xlsx(tmp_path / 'good.xlsx', 'ok')
    outcomes = read_files([path, good])
    assert outcomes[0].problem in ('parser_crashed', 'too_many_cells')
    assert (outcomes[1].problem, outcomes[1].sheets[0].rows) == (None, [['ok']])


def test_crash_timeout_and_memory_cost_one_file_each(tmp_path, monkeypatch):
    real_read_file = readers.read_file

    def misbehaving_read_file(path, limits):
        name = os.path.basename(path)
        if name.startswith('crash'):
            os.kill(os.getpid(), signal.SIGSEGV)
        if name.startswith('slow'):
            time.sleep(60)
        return real_read_file(path, limits)

    monkeypatch.setattr(readers, 'read_file', misbehaving_read_file)  # the forked children see it
    good_csv = tmp_path / 'good.csv'
    good_csv.write_text('a,b\n1,2\n', encoding='utf-8')
    good_xlsx = build_small_xlsx(tmp_path / 'good.xlsx', 'ok')
    crash = build_small_xlsx(tmp_path / 'crash.xlsx')
    slow = build_small_xlsx(tmp_path / 'slow.xlsx')
    hungry = tmp_path / 'hungry.csv'
    hungry.write_text('1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n' * 300_000, encoding='utf-8')  # ~4.5 M str cells
    with open('/proc/self/statm') as statm:
        address_space = int(statm.read().split()[0]) * os.sysconf('SC_PAGE_SIZE')
    limits = ReadLimits(memory_bytes=address_space + 96 * 1024**2, seconds=2.0)
    started = time.monotonic()
    outcomes = read_files([good_csv, crash, slow, good_xlsx], limits, workers=2)
    assert time.monotonic() - started < 15
    assert [outcome.path for outcome in outcomes] == [str(path) for path in (good_csv, crash, slow, good_xlsx)]
    assert [outcome.problem for outcome in outcomes] == [None, 'parser_crashed', 'timeout', None]
    assert 'SIGSEGV' in outcomes[1].detail and outcomes[1].kind == 'xlsx'
    assert outcomes[0].sheets[0].rows == [['a', 'b'], ['1', '2']]
    assert outcomes[3].sheets[0].rows == [['ok']]
    # The memory cap on its own, with time to spare: on a loaded machine 2 s could run out first.
    hungry_outcomes = read_files([hungry, good_csv], replace(limits, seconds=60.0), workers=2)
    assert [outcome.problem for outcome in hungry_outcomes] == ['file_too_large', None]


def test_meanwhile_runs_once_in_the_parent_while_children_work(tmp_path):
    paths = [tmp_path / f'{name}.csv' for name in ('small', 'large', 'middle')]
    for path, rows in zip(paths, (1, 3000, 300)):
        path.write_text('a,b\n' + '1,2\n' * rows, encoding='utf-8')
    calls, counts = [], []
    pairs = read_files_with(paths, lambda index, outcome: (os.getpid(), len(outcome.sheets[0].rows)),
                                     workers=2, meanwhile=lambda: calls.append(os.getpid()),
                                     finished=lambda index, outcome, product: counts.append((index, product[1])))
    assert calls == [os.getpid()]
    # Once per file, as each result came in, with what its child made of it.
    assert sorted(counts) == [(0, 2), (1, 3001), (2, 301)]
    # Started largest first, returned in the order asked, each processed in its own child.
    assert [product[1] for _, product in pairs] == [2, 3001, 301]
    assert all(product[0] != os.getpid() for _, product in pairs)
    nothing_to_read = []
    assert read_files_with([], meanwhile=lambda: nothing_to_read.append(1)) == [] and nothing_to_read == [1]


def test_meanwhile_steps_run_in_the_parent_one_at_a_time_while_children_are_replaced(tmp_path):
    paths = [tmp_path / f'{number}.csv' for number in range(4)]
    for path in paths:
        path.write_text('a\n1\n', encoding='utf-8')
    arrived, seen = [], []

    def steps():
        for _ in range(6):   # more steps than files: the last ones run once every child has finished
            time.sleep(0.3)   # long enough for a child to finish during a step
            seen.append((os.getpid(), len(arrived)))
            yield

    pairs = read_files_with(paths, lambda index, outcome: index, workers=1, meanwhile=steps(),
                                     finished=lambda index, outcome, product: arrived.append(product))
    assert [product for _, product in pairs] == [0, 1, 2, 3] and sorted(arrived) == [0, 1, 2, 3]
    assert [pid for pid, _ in seen] == [os.getpid()] * 6
    # One worker: a step never waits for all the files, and files go on arriving between the steps.
    counts = [count for _, count in seen]
    assert counts == sorted(counts) and counts[0] < 4 and len(set(counts)) > 2


def test_a_slow_meanwhile_does_not_time_out_children_that_finished(tmp_path):
    path = tmp_path / 'a.csv'
    path.write_text('a\n1\n', encoding='utf-8')
    pairs = read_files_with([path], limits=ReadLimits(seconds=1.0), meanwhile=lambda: time.sleep(2.5))
    assert pairs[0][0].problem is None and pairs[0][0].sheets[0].rows == [['a'], ['1']]


def test_handed_off_cells_read_back_as_parsed(tmp_path):
    source = build_xlsx(tmp_path / 'district.xlsx')
    outcome = read_file(source)
    kept = tmp_path / f'version{HANDOFF_SUFFIX}'
    save_handoff(outcome, kept)
    assert read_handoff(str(kept)) == outcome
    assert read_handoff(str(source)) == outcome   # any other path is parsed as usual
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(['district.xlsx', kept.name])   # no .partial
    layout_only = tmp_path / f'layout{HANDOFF_SUFFIX}'
    save_handoff(outcome, layout_only, with_cells=False)
    sheets = read_handoff(str(layout_only)).sheets
    assert [(s.name, s.hidden, s.first_row, s.first_column, s.merged) for s in sheets] == \
        [(s.name, s.hidden, s.first_row, s.first_column, s.merged) for s in outcome.sheets]
    assert all(s.rows == [] for s in sheets)
    assert [cell_count(s) for s in sheets] == [sum(map(len, s.rows)) for s in outcome.sheets] != [0]
