"""/family (alias /giadinh): show the family profile; `/family set KEY VALUE` changes it.

The profile is what every answer respects (kitchen, diet, region …), so only admins set it.
Values are normalised where the rewriter depends on them: region → bac|trung|nam,
language → vi|en, privacy → strict|normal.
"""

from __future__ import annotations

from bot.calendar.clock import DEFAULT_ZONE, checked_zone
from bot.core.errors import UsageError
from bot.core.i18n import tr
from bot.core.types import Reply
from bot.store.families import PROFILE_KEYS
from handlers.base import Ctx, Registry
from handlers.voice_out import voice_setup_note
from knowledge.guard import REGION_NAMES
from knowledge.relevance import fold

DEFAULTS = {"language": "vi", "privacy": "normal", "timezone": DEFAULT_ZONE}
MAX_LEN = {"name": 60, "kitchen": 300, "diet": 300, "note": 300}
CLEAR_WORDS = frozenset({"-", "xoa", "clear", "none", "unset", "bo"})
SET_WORDS = frozenset({"set", "dat", "sua", "doi"})
KEY_ALIASES = {
    "name": ("name", "ten", "tengiadinh"),
    "region": ("region", "mien", "vung", "vungmien"),
    "language": ("language", "lang", "ngonngu", "tiengnoi"),
    "kitchen": ("kitchen", "bep", "nhabep", "dungcu"),
    "diet": ("diet", "anuong", "chedoan", "an"),
    "note": ("note", "ghichu", "luuy"),
    "privacy": ("privacy", "riengtu", "baomat"),
    "timezone": ("timezone", "tz", "muigio"),
    "voice": ("voice", "giongnoi", "docto", "doc"),
}
LABELS = {
    "name": ("Tên", "Name"),
    "region": ("Miền", "Region"),
    "language": ("Ngôn ngữ", "Language"),
    "kitchen": ("Bếp", "Kitchen"),
    "diet": ("Ăn uống", "Diet"),
    "note": ("Ghi chú", "Note"),
    "privacy": ("Riêng tư", "Privacy"),
    "timezone": ("Múi giờ", "Time zone"),
    "voice": ("Đọc to câu trả lời", "Voice replies"),
}
EXAMPLES = {
    "name": ("Nhà bà Lan", "The Nguyens"),
    "region": ("Nam", "south"),
    "language": ("vi", "en"),
    "kitchen": (
        "bếp gas, nồi đất, nồi cơm điện, không có lò nướng",
        "gas stove, clay pot, rice cooker, no oven",
    ),
    "diet": (
        "Bà nội ăn chay mùng Một và rằm, bé Na dị ứng tôm",
        "Grandma eats vegetarian on full-moon days, Na is allergic to shrimp",
    ),
    "note": ("nhà có trẻ nhỏ 3 tuổi", "we have a 3-year-old"),
    "privacy": ("strict", "strict"),
    "timezone": ("Asia/Ho_Chi_Minh", "America/Los_Angeles"),
    "voice": ("on", "on"),
}
LANGUAGES = {
    "vi": "vi",
    "vn": "vi",
    "viet": "vi",
    "tieng viet": "vi",
    "vietnamese": "vi",
    "en": "en",
    "english": "en",
    "tieng anh": "en",
    "anh": "en",
}
REGIONS = {
    "bac": "bac",
    "mien bac": "bac",
    "ngoai bac": "bac",
    "north": "bac",
    "northern": "bac",
    "the north": "bac",
    "trung": "trung",
    "mien trung": "trung",
    "central": "trung",
    "centre": "trung",
    "center": "trung",
    "nam": "nam",
    "mien nam": "nam",
    "trong nam": "nam",
    "south": "nam",
    "southern": "nam",
    "the south": "nam",
}
PRIVACY = {
    "strict": "strict",
    "nghiem": "strict",
    "chat": "strict",
    "cao": "strict",
    "on": "strict",
    "normal": "normal",
    "binh thuong": "normal",
    "thuong": "normal",
    "off": "normal",
}


SWITCH = {"on": "on", "bat": "on", "co": "on", "off": "off", "tat": "off", "khong": "off"}


def effective_profile(profile: dict[str, str]) -> dict[str, str]:
    """The stored profile with the defaults a new family starts with."""
    return {**DEFAULTS, **{k: v for k, v in profile.items() if v}}


def first_run_greeting(lang: str) -> str:
    """Shown on a family's first message: what Hearth is and the profile in 2–3 messages."""
    return tr(
        lang,
        "Xin chào cả nhà! Mình là Hearth 🏡 — trợ lý của gia đình. Cứ hỏi mình chuyện bếp núc,"
        " phong tục, việc nhà; mình trả lời theo đúng nếp nhà mình.\n"
        "Để mình hiểu nhà mình, quản trị viên chỉ cần gửi 2–3 tin:\n"
        "1. /family set region Nam  (Bắc, Trung hay Nam)\n"
        "2. /family set kitchen bếp gas, nồi đất, nồi cơm điện, không có lò nướng\n"
        "3. /family set diet Bà nội không ăn cay  (hoặc /remember …)\n"
        "Xem hồ sơ: /family · Mọi lệnh: /help\n"
        "Giờ thì hỏi thử nhé, ví dụ: «Làm cá kho thế nào?»",
        "Hello everyone! I'm Hearth 🏡 — your family's assistant. Ask me about cooking,"
        " customs and the household; I answer the way your home does things.\n"
        "To get to know your family, an admin only needs to send 2–3 messages:\n"
        "1. /family set region south  (north, central or south)\n"
        "2. /family set kitchen gas stove, clay pot, rice cooker, no oven\n"
        "3. /family set diet Grandma eats no chilli  (or /remember …)\n"
        "See the profile: /family · All commands: /help\n"
        "Now try a question, for example: “How do I make cá kho?”",
    )


def parse_key(text: str) -> tuple[str | None, str]:
    """('kitchen', 'bếp gas…') from 'bếp bếp gas…' or 'kitchen bếp gas…'; None if unknown."""
    words = text.split()
    for n in (3, 2, 1):
        if len(words) < n:
            continue
        head = fold("".join(words[:n]))
        for key, aliases in KEY_ALIASES.items():
            if head in aliases:
                return key, " ".join(words[n:])
    return None, text


def normalise(key: str, value: str) -> str:
    """The stored form of a value; raises UsageError with the accepted forms."""
    folded = " ".join(fold(value).split())
    if key == "region":
        code = REGIONS.get(folded)
        if code is None:
            raise UsageError(
                "Miền là một trong: Bắc, Trung, Nam.",
                "Region is one of: north, central, south (Bắc, Trung, Nam).",
            )
        return code
    if key == "language":
        if folded not in LANGUAGES:
            raise UsageError(
                "Ngôn ngữ: vi (tiếng Việt) hoặc en (tiếng Anh).",
                "Language: vi (Vietnamese) or en (English).",
            )
        return LANGUAGES[folded]
    if key == "privacy":
        if folded not in PRIVACY:
            raise UsageError(
                "Riêng tư: strict (nghiêm) hoặc normal (bình thường).", "Privacy: strict or normal."
            )
        return PRIVACY[folded]
    if key == "voice":
        if folded not in SWITCH:
            raise UsageError("Đọc to: on (bật) hoặc off (tắt).", "Voice replies: on or off.")
        return SWITCH[folded]
    if key == "timezone":
        try:
            return checked_zone(value)
        except ValueError:
            raise UsageError(
                "Múi giờ viết theo tên IANA, ví dụ Asia/Ho_Chi_Minh, America/Los_Angeles.",
                "A time zone is an IANA name, e.g. Asia/Ho_Chi_Minh, America/Los_Angeles.",
            ) from None
    if key == "name" and ":" in value:
        raise UsageError(
            "Tên gia đình không được chứa dấu hai chấm (:).",
            "A family name cannot contain a colon (:).",
        )
    limit = MAX_LEN.get(key, 300)
    if len(value) > limit:
        raise UsageError(
            f"Dài quá: tối đa {limit} ký tự.", f"Too long: at most {limit} characters."
        )
    return value


def display(key: str, value: str, lang: str) -> str:
    """A profile value as people read it (region codes become region names)."""
    if key == "region" and value in REGION_NAMES:
        vi, en = REGION_NAMES[value]
        return tr(lang, vi, en)
    if key == "language":
        return {
            "vi": tr(lang, "tiếng Việt", "Vietnamese"),
            "en": tr(lang, "tiếng Anh", "English"),
        }.get(value, value)
    if key == "privacy":
        return {
            "strict": tr(lang, "nghiêm (strict)", "strict"),
            "normal": tr(lang, "bình thường (normal)", "normal"),
        }.get(value, value)
    return value


def render_profile(profile: dict[str, str], lang: str, family_name: str | None) -> str:
    """The /family card: every key, its value or a default or an example to copy."""
    shown = effective_profile(profile)
    title = family_name or profile.get("name")
    head = tr(lang, "🏡 Hồ sơ gia đình", "🏡 Family profile") + (f" «{title}»" if title else "")
    lines = [head]
    for key in PROFILE_KEYS:
        label = tr(lang, *LABELS[key])
        if key in shown:
            default = "" if profile.get(key) else tr(lang, " (mặc định)", " (default)")
            lines.append(f"• {label} ({key}): {display(key, shown[key], lang)}{default}")
        else:
            example = tr(lang, *EXAMPLES[key])
            lines.append(
                tr(
                    lang,
                    "• {l} ({k}): chưa đặt — ví dụ: /family set {k} {e}",
                    "• {l} ({k}): not set — e.g. /family set {k} {e}",
                    l=label,
                    k=key,
                    e=example,
                )
            )
    lines.append("")
    lines.append(
        tr(
            lang,
            "Sửa: /family set KHÓA GIÁ TRỊ (quản trị viên) · xóa: /family set KHÓA -",
            "Change: /family set KEY VALUE (admins) · clear: /family set KEY -",
        )
    )
    return "\n".join(lines)


def keys_help(lang: str) -> str:
    """The polite list of keys shown for an unknown key or a bare `/family set`."""
    lines = [tr(lang, "Các khóa dùng được:", "The keys you can set:")]
    for key in PROFILE_KEYS:
        lines.append(
            f"• {key} ({tr(lang, *LABELS[key]).lower()}): /family set {key} "
            + tr(lang, *EXAMPLES[key])
        )
    return "\n".join(lines)


async def family_command(ctx: Ctx) -> Reply:
    """Show the profile, or set one key of it (admins)."""
    args = ctx.args.strip()
    if not args:
        profile = await ctx.services.families.profile(ctx.family.id)
        return Reply(render_profile(profile, ctx.lang, ctx.family.name))
    sub, _, rest = args.partition(" ")
    if fold(sub) not in SET_WORDS:
        return Reply(
            ctx.t("Mình chưa hiểu «{a}».\n", "I didn't understand “{a}”.\n", a=sub)
            + keys_help(ctx.lang)
        )
    ctx.require_admin()
    key, value = parse_key(rest.strip())
    if key is None:
        unknown = rest.split()[0] if rest.split() else ""
        intro = (
            ctx.t("Không có khóa «{k}». ", "There is no key “{k}”. ", k=unknown) if unknown else ""
        )
        return Reply(intro + keys_help(ctx.lang))
    value = value.strip()
    if not value:
        return Reply(
            ctx.t(
                "Thiếu giá trị. Ví dụ: /family set {k} {e}",
                "Missing a value. For example: /family set {k} {e}",
                k=key,
                e=ctx.t(*EXAMPLES[key]),
            )
        )
    if fold(value) in CLEAR_WORDS:
        await ctx.services.families.set_profile(ctx.family.id, key, "")
        await _rezone(ctx, key)
        return Reply(ctx.t("Đã xóa {l}.", "Cleared {l}.", l=ctx.t(*LABELS[key]).lower()))
    stored = normalise(key, value)
    await ctx.services.families.set_profile(ctx.family.id, key, stored)
    await _rezone(ctx, key)
    reply = ctx.t(
        "Đã lưu — {l}: {v}",
        "Saved — {l}: {v}",
        l=ctx.t(*LABELS[key]).lower(),
        v=display(key, stored, ctx.lang),
    )
    if key == "privacy" and stored == "strict":
        reply += "\n" + ctx.t(
            "Khi dùng mô hình AI ở máy chủ bên ngoài, mình sẽ không gửi tên, ghi nhớ hay hội thoại"
            " riêng của nhà mình; chỉ gửi câu hỏi và kiến thức chung.",
            "When the AI model runs on an outside server, I won't send your family's name,"
            " remembered facts or conversation; only the question and shared knowledge.",
        )
    if key == "voice" and stored == "on":
        reply += voice_setup_note(ctx)
    return Reply(reply)


async def _rezone(ctx: Ctx, key: str) -> None:
    """A new time zone moves every next reminder to the same local time in it."""
    if key == "timezone" and ctx.services.calendar is not None:
        await ctx.services.calendar.events.rezone(ctx.family.id)


def register(reg: Registry) -> None:
    """The family profile command."""
    reg.add(
        "family",
        family_command,
        help_vi="xem hồ sơ gia đình; /family set KHÓA GIÁ TRỊ để sửa",
        help_en="show the family profile; /family set KEY VALUE to change it",
        aliases=("giadinh",),
    )
