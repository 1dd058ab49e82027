"""The staff web console under /admin (issue 7): server-rendered pages in Chinese for hub staff."""

from bot.admin.views import bp

__all__ = ["bp"]
