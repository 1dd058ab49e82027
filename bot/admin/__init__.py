"""The staff web console under /admin: server-rendered pages in Chinese for hub staff."""

from bot.admin.views import bp

__all__ = ["bp"]
