"""The on-screen pinyin input method: words first, then common characters."""

from kiosk.flows.pinyin_ime import candidates, first_syllable


def texts(letters):
    return [t for t, _n in candidates(letters)]


def test_whole_words_come_first_and_consume_all_letters():
    assert candidates("diangong")[0] == ("电工", 8)
    assert texts("linxian")[0] == "临县"   # a county residents work in
    assert texts("hongzao")[0] == "红枣"


def test_characters_of_the_first_syllable_follow_common_first():
    got = candidates("wangjianguo")
    chars = [(t, n) for t, n in got if len(t) == 1]
    assert chars[0] == ("王", 4)
    assert texts("li")[:3] == ["力", "里", "理"] or "李" in texts("li")[:12]


def test_rare_characters_outside_gb2312_are_not_offered():
    for t in texts("yi"):
        t.encode("gb2312")


def test_noise_is_ignored():
    assert candidates("") == [] and candidates("123 !") == []
    assert texts("DIAN-GONG")[0] == "电工"
    assert first_syllable("zhuang") == "zhuang" and first_syllable("xyz") == ""
