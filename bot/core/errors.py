"""A small error hierarchy: every error a user may see carries its own kind message."""

from __future__ import annotations


class HearthError(Exception):
    """Base for errors that are turned into a polite reply in one place."""

    def __init__(self, vi: str, en: str | None = None) -> None:
        super().__init__(en or vi)
        self.vi = vi
        self.en = en or vi

    def user_message(self, lang: str) -> str:
        """Pick the message in the user's language so no handler formats errors itself."""
        return self.vi if lang == "vi" else self.en


class FileUnavailable(HearthError):
    """A file a message came with cannot be fetched (any more): the member is asked for it."""

    def __init__(self) -> None:
        super().__init__(
            "Mình không lấy được tệp hay tin nhắn thoại bạn gửi. Bạn gửi lại giúp mình nhé.",
            "I couldn't get the file or voice message you sent. Please send it again.",
        )


class UsageError(HearthError):
    """Bad input from a user or a command line: exit code 2 / a polite correction."""


class PermissionDenied(HearthError):
    """The member's role does not allow this command."""


class ConfigError(Exception):
    """A setting is wrong; the message names the variable and what is wrong."""


class LLMUnavailable(Exception):
    """Every configured endpoint failed; carries the last error for the logs."""


class ContextTooLong(Exception):
    """The endpoint rejected the prompt as too long: rebuild with a smaller budget."""
