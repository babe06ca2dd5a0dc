import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware import escpos_commands as cmd
from kiosk.hardware.escpos_render import decode, decoded_lines, render_png, tokenize


def test_chinese_text_is_gb18030_in_chinese_mode():
    job = cmd.JobBuilder(80).line("失业保险金申领").build()
    assert job.startswith(cmd.INIT + cmd.CHINESE_ON)
    assert "失业保险金申领".encode("gb18030") + b"\n" in job


def test_punctuation_only_line_is_encoded_not_question_marks():
    # python-escpos' magic encoder would print "——" and "：" as "?"
    job = cmd.JobBuilder(58).line("——").line("：、。").build()
    assert "——".encode("gb18030") in job and "：、。".encode("gb18030") in job
    assert b"?" not in job
    assert [l for l in decoded_lines(decode(job)) if l] == ["——", "：、。"]


def test_heading_is_double_size_centered_and_decodes_so():
    job = cmd.JobBuilder(80).heading("业务受理回执").build()
    assert cmd.char_size(2, 2) in job and cmd.align("center") in job
    el = decode(job)[0]
    assert el.text == "业务受理回执" and el.align == "center"
    assert el.segments[0].width == 2 and el.segments[0].height == 2 and el.segments[0].bold


def test_qr_native_command_bytes():
    q = cmd.qr_native("https://a.b/c", module=6, error_level="M")
    assert q.startswith(b"\x1d(k\x04\x001A2\x00")            # model 2
    assert b"\x1d(k\x03\x001C\x06" in q                       # module size 6
    assert b"\x1d(k\x03\x001E1" in q                          # error level M
    assert b"\x1d(k\x10\x001P0https://a.b/c" in q            # store: pL = 13 + 3
    assert q.endswith(b"\x1d(k\x03\x001Q0")                  # print


@pytest.mark.parametrize("qr_mode", ["native", "image"])
def test_qr_round_trip(qr_mode):
    url = "https://ggfw.example.cn/t?no=SX20260212000123"
    job = cmd.JobBuilder(58, qr_mode=qr_mode).qr(url).cut().build()
    lines = decoded_lines(decode(job))
    assert f"[QR] {url}" in lines
    assert lines[-1] == "[CUT]"
    assert (b"\x1dv0" in job) == (qr_mode == "image")


def test_cut_commands():
    assert cmd.cut(partial=True) == b"\x1dV\x01"
    assert cmd.cut(partial=False) == b"\x1dV\x00"
    assert cmd.cut(partial=True, feed_dots=48) == b"\x1dVB0"
    for c in (cmd.cut(True), cmd.cut(False), cmd.cut(True, 48)):
        assert decoded_lines(decode(b"x\n" + c)) == ["x", "[CUT]"]


def test_raster_text_mode_sends_images_of_paper_width():
    job = cmd.JobBuilder(58, text_mode="raster").line("你好").build()
    assert "你好".encode("gb18030") not in job and cmd.CHINESE_ON not in job
    el = decode(job)[0]
    assert el.kind == "image" and el.image.size[0] == 384
    # the glyphs are there: some black dots in the line
    assert el.image.getextrema()[0] == 0


def test_rare_character_line_falls_back_to_raster():
    job = cmd.JobBuilder(80).line("𠀀先生").line("普通").build()   # U+20000 is 4 bytes in GB18030
    kinds = [e.kind for e in decode(job)]
    assert kinds == ["image", "text"]


def test_raster_bands_and_payload_not_mistaken_for_commands():
    # an image whose bytes contain DLE EOT and GS V must not be read as a cut or status
    from PIL import Image

    img = Image.new("L", (16, 600), 255)
    px = img.load()
    for y in range(600):
        for x in range(16):
            if (x * 7 + y) % 5 == 0:
                px[x, y] = 0
    job = cmd.JobBuilder(80).image(img).line("END").build()
    toks = tokenize(job)
    assert [t.kind for t in toks].count("raster") == 3          # 256 + 256 + 88 rows
    assert "cut" not in [t.kind for t in toks] and "status" not in [t.kind for t in toks]
    assert decoded_lines(decode(job))[-1] == "END"


def test_wrap_respects_columns_and_cjk_width():
    text = "受理编号：SX20260212000123，请妥善保管本回执，查询电话0358-4466038"
    for cols in (32, 48, 16):
        lines = cmd.wrap(text, cols)
        assert all(cmd.display_width(l) <= cols for l in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert "SX20260212000123" in "".join(cmd.wrap(text, 32)).split("：")[1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("申领失业保险金，。：（）abcXYZ0123-*— 、")), min_size=0, max_size=40),
                min_size=1, max_size=5))
def test_text_round_trips_through_the_decoder(lines):
    b = cmd.JobBuilder(80)
    for l in lines:
        b.line(l.strip())
    assert decoded_lines(decode(b.build())) == [l.strip() for l in lines]


def test_png_is_printer_width(tmp_path):
    job = cmd.JobBuilder(58).heading("标题").line("正文").cut().build()
    img = render_png(decode(job), 384, tmp_path / "r.png")
    assert img.size[0] == 384 and (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
