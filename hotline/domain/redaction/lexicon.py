"""Word lists the name detector reads: family names, middle names, given names, places.

A capitalised word after "ông" is a name whatever it is; a lower-case one ("anh tuấn",
"chi lan") only when it is a common name syllable. The lists hold the syllables of
most Vietnamese names; places named after people are kept as written.
"""
from __future__ import annotations

from hotline.domain.redaction.normalize import fold

__all__ = [
    "AMBIGUOUS_ASCII_KIN",
    "CAP_ONLY_KIN",
    "COMMON_UNACCENTED",
    "COMPOUNDS",
    "FALSE_NAMES",
    "FAMOUS_NAMES",
    "GENERIC_TITLES",
    "KEEP_NAMES",
    "KIN",
    "MIDDLE_NAMES",
    "NAME_SYLLABLES",
    "NUMBER_NICKNAMES",
    "PERSON_CUES",
    "PLACE_WORDS",
    "RELATIVES",
    "SENTENCE_STARTERS",
    "STRONG_MIDDLE_NAMES",
    "SURNAMES",
    "folded_set",
    "is_name_syllable",
]


def folded_set(words) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


# The commonest family names (about nine people in ten carry one of these).
SURNAMES = frozenset({
    "nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "đỗ",
    "hồ", "ngô", "dương", "lý", "đinh", "đoàn", "trương", "trịnh", "đào", "tạ", "quách", "lưu",
    "kiều", "triệu", "tăng", "vương", "phùng", "lại", "mai", "cao", "lâm", "hà", "thái", "châu",
    "tô", "lương", "chu", "mạc", "doãn", "khúc", "khổng", "tôn", "thân", "lò", "lục", "nông",
    "hứa", "giang", "đàm", "kim", "tống", "diệp", "lạc", "ông", "từ",
})
# Family names that also begin place names (Hà Nội, Lâm Đồng, Cao Bằng, Thái Bình, Châu
# Thành, Mai Sơn, Giang) only count with a cue or a middle name.
PLACE_SURNAMES = frozenset({"mai", "cao", "lâm", "hà", "thái", "châu", "tô", "giang", "chu",
                            "kim", "lạc", "thân", "lương", "đàm", "tống", "nông", "lục", "ông",
                            "từ"})
MIDDLE_NAMES = frozenset({
    "văn", "thị", "hữu", "đức", "ngọc", "minh", "thanh", "quốc", "xuân", "hoàng", "kim",
    "công", "đình", "quang", "hồng", "bảo", "gia", "thành", "trọng", "duy", "thu", "thùy",
    "thuỳ", "mỹ", "như", "phương", "hoài", "anh", "tuấn", "nhật", "khánh", "việt", "tiến",
    "mạnh", "huy", "hải", "trung", "thế", "bá", "chí", "tấn", "phú", "diệu", "kiều",
    "tường", "vĩnh", "đăng", "thiện", "hà", "lan", "cẩm", "bích", "tuyết", "trà", "hạnh",
})
# Middle names that are hardly anything else, even written in lower case without accents.
STRONG_MIDDLE_NAMES = frozenset({"văn", "thị", "hữu", "đức", "ngọc", "đình", "công", "quang",
                                 "xuân", "minh", "thanh", "hoàng", "kim", "quốc", "thuỳ", "thùy"})
GIVEN_NAMES = frozenset({
    "an", "anh", "ánh", "bảo", "bình", "bích", "cường", "chi", "châu", "chiến", "cúc", "dũng",
    "dung", "duy", "dương", "đạt", "điệp", "định", "đông", "đức", "giang", "hà", "hải", "hạnh",
    "hằng", "hân", "hậu", "hiền", "hiếu", "hiệp", "hoa", "hòa", "hoà", "hoài", "hoàng", "hồng",
    "huệ", "hùng", "hưng", "hương", "hường", "huy", "huyền", "khải", "khang", "khánh", "khoa",
    "khôi", "kiên", "kiệt", "lan", "liên", "linh", "loan", "lộc", "long", "luân", "lực", "ly",
    "mai", "mạnh", "minh", "my", "mỹ", "nam", "nga", "ngân", "nghĩa", "ngọc", "nguyên", "nhàn",
    "nhân", "nhi", "nhung", "oanh", "phát", "phong", "phúc", "phụng", "phước", "phương",
    "phượng", "quân", "quang", "quốc", "quý", "quyên", "quỳnh", "sang", "sơn", "tài", "tâm",
    "tân", "thái", "thắm", "thắng", "thanh", "thành", "thảo", "thịnh", "thoa", "thơ", "thu",
    "thủy", "thuỷ", "thúy", "thuý", "thư", "thương", "tiến", "toàn", "trang", "trâm", "trí",
    "trinh", "trung", "truyền", "tú", "tuấn", "tuyết", "uyên", "vân", "vinh", "vũ", "vy",
    "xuân", "yến", "hoan", "diễm", "diệu", "lệ", "quế", "sương", "tuyền", "vàng",
    "lài", "lợi", "lý", "thạch", "trọng", "cảnh", "đào", "hào", "hiển", "huân", "kha", "lâm",
    "luật", "nhật", "quyết", "sỹ", "thuận", "tín", "tuệ", "vĩ", "việt", "thông", "toản",
    "trường", "tuân", "tùng", "bằng", "chung", "doanh", "giao", "hiên",
    # Nicknames by birth order and pet names, the way neighbours name each other.
    "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "út", "tí", "tèo", "tũn",
    "bin", "bống", "mít", "na", "bi", "cò", "tủn",
})
NUMBER_NICKNAMES = frozenset({"hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười",
                              "một", "bốn"})
NAME_SYLLABLES = frozenset(SURNAMES | MIDDLE_NAMES | GIVEN_NAMES)
_NAME_FOLDED = folded_set(NAME_SYLLABLES)

# Kinship words and the words people use to point at someone ("thằng Tèo", "lão Tư").
KIN = frozenset({"ông", "bà", "anh", "chị", "em", "cô", "chú", "bác", "cháu", "dì", "cậu",
                 "mợ", "thím", "dượng", "bé", "cụ", "thằng", "lão", "mụ", "gã", "chàng", "nàng"})
# Chat shorthand ("a Đạt ơi", "e Lan", "c Hoa") and "bạn": a person only before a capital.
CAP_ONLY_KIN = frozenset({"a", "e", "c", "ô", "b", "bạn", "bn", "ad", "anh/chị"})
# Written without accents these are also everyday words: "co" is "có", "di" is "đi", "ba"
# is "three", "chi" is "chỉ"; a lower-case word after them is a name only as a full name.
AMBIGUOUS_ASCII_KIN = frozenset({"co", "ba", "di", "cau", "be", "mo", "cu", "chi", "chu",
                                 "bac", "ong", "lao", "ga", "mu", "nang", "chang", "duong"})
# Kinship word + word that is not a name ("anh hùng" is a hero, "chú ý" is "note").
FALSE_NAMES = frozenset({
    ("anh", "hùng"), ("anh", "dũng"), ("anh", "minh"), ("anh", "tài"), ("anh", "hào"),
    ("chú", "ý"), ("bác", "sĩ"), ("bác", "sỹ"), ("cô", "lập"), ("cô", "đặc"), ("em", "út"),
    ("anh", "linh"), ("cụ", "thể"), ("bà", "ba"), ("em", "bé"), ("bé", "nhỏ"), ("ông", "bà"),
    ("ba", "má"), ("ba", "mẹ"), ("cô", "chú"), ("cô", "dì"), ("anh", "chị"), ("chị", "em"),
})
# Capitalised words after a kinship word that are not names ("Anh Quốc", "Bác sĩ").
GENERIC_TITLES = frozenset({
    "quốc", "chủ", "tổ", "trưởng", "phó", "công", "bí", "ban", "ủy", "uỷ", "giám", "cán",
    "bác", "sĩ", "thầy", "giáo", "hiệu", "trực", "tổng", "kỹ", "kĩ", "ấy", "ta", "này", "đó",
    "con", "cả", "các", "những", "mọi", "chị", "em", "anh", "ông", "bà", "cô", "chú",
    "dân", "xe", "shipper", "hàng", "cháu", "bé", "tôi",
})
# Words that begin the next part of a sentence rather than continue a name.
SENTENCE_STARTERS = frozenset({
    "xin", "đề", "kính", "rất", "mong", "tôi", "hiện", "nay", "sáng", "chiều", "tối", "trưa",
    "đêm", "hôm", "ngày", "tại", "ở", "khi", "nhưng", "và", "vì", "do", "nên", "thì", "là",
    "đã", "đang", "sẽ", "có", "không", "cảm", "trân", "yêu", "kiến", "phản", "việc", "ubnd",
    "sđt", "đt", "số", "email", "nhà", "cccd", "cmnd", "hộ", "bị", "được", "thường", "liên",
    "sdt", "zalo", "fb", "gọi", "địa", "sinh", "trú", "cư", "quê", "tuổi", "ạ", "nhé",
})
# A word that points at a person ("hộ Lê Tư", "gia đình Trần Bảy").
PERSON_CUES = ("hộ gia đình", "gia đình", "hộ dân", "người tên", "chủ nhà", "chủ quán",
               "chủ xe", "chủ hộ", "cán bộ", "nhân viên", "hộ", "tên", "do", "bởi", "của",
               "ông", "bà", "anh", "chị", "cô", "chú", "bác", "em", "cháu")
# Words that turn a following name into a place: streets, wards and schools carry people's
# names ("đường Bà Triệu", "phường Lê Lợi", "trường Nguyễn Du").
PLACE_WORDS = ("đường", "phố", "phường", "xã", "thị trấn", "quận", "huyện", "tỉnh", "thành phố",
               "tp", "tp.", "thị xã", "ấp", "thôn", "khu phố", "kp", "khu", "tổ", "hẻm", "ngõ",
               "ngách", "kiệt", "cầu", "chợ", "núi", "sông", "kênh", "rạch", "bến", "trường",
               "thpt", "thcs", "tiểu học", "mầm non", "mẫu giáo", "công viên", "quảng trường",
               "bệnh viện", "ngã tư", "ngã ba", "ngã năm", "giao lộ", "góc", "nút giao",
               "đại lộ", "quốc lộ", "tỉnh lộ", "nhà văn hóa", "nhà văn hoá", "chùa", "đền",
               "lăng", "tượng đài", "di tích", "hồ", "đảo", "phòng khám", "siêu thị",
               "khu đô thị", "chung cư", "cảng", "sân bay", "ga", "tuyến", "dự án", "đoạn",
               "số", "bến xe", "trạm", "nhà thờ", "đình", "miếu", "học viện", "đại học",
               "cao đẳng", "trung tâm", "ký túc xá", "hầm", "bãi", "đập", "bùng binh", "phường.",
               "p.", "q.", "đ.", "tt", "khóm", "xóm", "bản", "buôn", "lộ", "bờ", "giáo xứ",
               "duong", "pho", "phuong", "quan", "huyen", "tinh", "thanh pho", "truong", "hem",
               "ngo", "kiet", "song", "kenh", "nga tu", "nga ba", "benh vien", "cong vien",
               "khu pho", "thi tran", "thi xa", "chua", "den", "chung cu", "san bay", "cang")
# Places and public figures that begin with a kinship word or look like a person.
KEEP_NAMES = folded_set({
    "Bà Rịa", "Bà Chiểu", "Bà Đen", "Bà Điểm", "Bà Hom", "Bà Quẹo", "Bà Triệu", "Bà Huyện",
    "Bà Huyện Thanh Quan", "Bà Trưng", "Hai Bà Trưng", "Bà Lụa", "Bà Rá", "Bà Nà", "Bà Kiệu",
    "Bà Lài", "Bà Hạt",
    "Ông Lãnh", "Ông Ích Khiêm", "Ông Tạ", "Ông Đồn", "Ông Cả", "Ông Ích Đường", "Ông Văn",
    "Cô Tô", "Cô Giang", "Cô Bắc", "Cô Tiên", "Bác Hồ", "Chú Ía", "Hồ Chí Minh", "Bà Mụ",
    "Bà Chúa Xứ", "Ông Địa", "Ông Táo", "Ông Công", "Cậu Quan", "Cụ Hồ", "Ông Kèo",
})


def is_name_syllable(word: str) -> bool:
    """Whether a lower-case ``word`` is a common name syllable (accents as written, or none)."""
    low = word.lower()
    if low in NAME_SYLLABLES:
        return True
    return low == fold(low) and low in _NAME_FOLDED

# Historical figures whose full names are street, school and ward names all over the
# country; without a kinship word or "hộ" in front they are the place, not a neighbour.
FAMOUS_NAMES = folded_set({
    "Trần Hưng Đạo", "Nguyễn Thị Minh Khai", "Lê Thánh Tông", "Phan Đình Phùng",
    "Nguyễn Đình Chiểu", "Trần Quốc Toản", "Lý Thường Kiệt", "Lê Quang Định", "Nguyễn Văn Trỗi",
    "Võ Thị Sáu", "Nguyễn Thái Học", "Phan Bội Châu", "Phan Chu Trinh", "Huỳnh Thúc Kháng",
    "Nguyễn Văn Cừ", "Võ Nguyên Giáp", "Nguyễn Bỉnh Khiêm", "Trần Nhân Tông", "Lý Tự Trọng",
    "Nguyễn Chí Thanh", "Lê Hồng Phong", "Tôn Đức Thắng", "Nguyễn Thị Định", "Nguyễn Văn Linh",
    "Phạm Văn Đồng", "Lê Văn Sỹ", "Nguyễn Tri Phương", "Trần Quang Khải", "Lê Quý Đôn",
    "Nguyễn Công Trứ", "Hoàng Văn Thụ", "Nguyễn Hữu Cảnh", "Trần Khánh Dư", "Lý Thái Tổ",
    "Lý Công Uẩn", "Trần Quốc Tuấn", "Nguyễn Văn Bé", "Huỳnh Tấn Phát", "Nguyễn Lương Bằng",
    "Trần Văn Ơn", "Lê Văn Tám", "Võ Văn Kiệt", "Nguyễn Văn Thoại", "Phạm Ngũ Lão",
    "Phạm Hồng Thái", "Nguyễn Khắc Nhu", "Trần Cao Vân", "Nguyễn Thượng Hiền", "Lê Lai",
    "Trương Định", "Trần Bình Trọng", "Nguyễn Thị Thập", "Lê Văn Việt", "Đinh Tiên Hoàng",
    "Lê Đại Hành", "Ngô Gia Tự", "Hồ Tùng Mậu", "Lê Duẩn", "Trường Chinh", "Phạm Văn Chiêu",
    "Nguyễn Văn Quá", "Nguyễn Ảnh Thủ", "Lê Trọng Tấn", "Phan Văn Trị", "Lê Văn Duyệt",
    "Nguyễn Trung Trực", "Trần Phú", "Nguyễn Huệ", "Lê Lợi", "Nguyễn Du", "Nguyễn Trãi",
    "Đào Duy Từ", "Hồ Xuân Hương", "Bùi Thị Xuân", "Nguyễn Đình Thi", "Phan Đăng Lưu",
    "Nguyễn Văn Đậu", "Hoàng Hoa Thám", "Đặng Thùy Trâm", "Nguyễn Thị Nghĩa",
})

# Written without accents these are everyday words before they are names: "trong" (in),
# "lam" (làm), "tien" (tiền), "nhan" (nhận), "phat" (phạt), "vu" (vụ), "an" (ăn).
COMMON_UNACCENTED = frozenset({
    "trong", "an", "lam", "tien", "thu", "nhan", "tin", "phat", "quan", "vu", "viet", "nhat",
    "tri", "dung", "con", "cho", "ve", "di", "lai", "qua", "moi", "the", "nay", "sang", "la",
    "va", "de", "ra", "vao", "len", "do", "thi", "ma", "co", "da", "dang", "se", "hay", "voi",
    "den", "tai", "o", "noi", "bao", "giao", "chung", "thong", "dao", "hoan", "vang", "khoa",
})

# Two words that make a common noun, not a name: "anh bảo vệ", "chú tài xế".
COMPOUNDS = frozenset({
    "bảo vệ", "tài xế", "công an", "bảo hiểm", "tài chính", "hải quan", "thanh tra",
    "quân đội", "dân quân", "xe ôm", "thợ hồ", "kỹ sư", "công nhân", "bán hàng", "sinh viên",
    "học sinh", "giáo viên", "nhân viên", "cán bộ", "an ninh", "tổ trưởng", "trưởng thôn",
    "bảo an", "hòa giải", "thanh niên", "phú hộ", "minh bạch", "bình thường", "an toàn",
    "văn phòng", "quang cảnh", "hùng hổ", "tâm lý", "hiền lành",
})

# Relatives a writer names after "… tôi": "vợ tôi", "con gái em", "hàng xóm mình".
RELATIVES = ("vợ", "chồng", "con", "con gái", "con trai", "em gái", "em trai", "anh trai",
             "chị gái", "bố", "mẹ", "cha", "má", "ba", "cháu", "cháu gái", "cháu trai",
             "ông nội", "bà nội", "ông ngoại", "bà ngoại", "bạn", "bạn gái", "bạn trai",
             "người yêu", "hàng xóm", "chủ nhà", "chị dâu", "em dâu", "con dâu", "con rể",
             "anh rể", "em rể", "vo", "chong", "con gai", "con trai", "em gai", "me", "bo")
