"""Server-rendered pages: plain and correct. Every form posts back with its CSRF token, then redirects."""

from __future__ import annotations

from starlette.routing import Route

from shuttle.web.pages import (
    agreements,
    casework,
    coordinator,
    coordinator_cases,
    coordinator_figures,
    coordinator_organisations,
    coordinator_retention,
    coordinator_staff,
    exports,
    language,
    notifications,
    participants,
    preparing,
    supported,
)
from shuttle.web.pages import referrals as referral_pages
from shuttle.web.pages.common import error_page, go, render
from shuttle.web.pages.signin import (
    account_page,
    home,
    invite_page,
    login_page,
    logout_page,
    set_password_page,
    totp_page,
)
from shuttle.web.pages.staff import approve_page, approved_page, review_page, staff_case_page, staff_page

__all__ = ["ROUTES", "error_page", "go", "render"]

ROUTES = [
    Route("/", home),
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/login/totp", totp_page, methods=["GET", "POST"]),
    Route("/invite", invite_page, methods=["GET", "POST"]),
    Route("/set-password", set_password_page, methods=["GET", "POST"]),
    Route("/logout", logout_page, methods=["POST"]),
    Route("/account", account_page),
    *language.ROUTES,
    *participants.ROUTES,
    *notifications.ROUTES,
    *preparing.ROUTES,
    *casework.ROUTES,
    *coordinator.ROUTES,
    *referral_pages.ROUTES,
    *coordinator_staff.ROUTES,
    *coordinator_cases.ROUTES,
    *coordinator_figures.ROUTES,
    *coordinator_organisations.ROUTES,
    *coordinator_retention.ROUTES,
    *agreements.ROUTES,
    *exports.ROUTES,
    *supported.ROUTES,  # issue 12: opening a message with the facilitator
    Route("/staff", staff_page),
    Route("/staff/cases/{case_id}", staff_case_page, methods=["GET", "POST"]),
    Route("/staff/messages/{message_id}", review_page, methods=["GET", "POST"]),
    Route("/staff/messages/{message_id}/approve", approve_page, methods=["GET", "POST"]),
    Route("/staff/messages/{message_id}/approved", approved_page),
]
