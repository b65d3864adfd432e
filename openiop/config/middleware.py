"""The browser's middleware, passed by for the bearer-token APIs (openiop.core.token_api): each
name here is the middleware it wraps, and settings.MIDDLEWARE lists these in its place."""

from csp.middleware import CSPMiddleware as _Csp
from django.contrib.messages.middleware import MessageMiddleware as _Messages
from django.contrib.sessions.middleware import SessionMiddleware as _Session
from django_otp.middleware import OTPMiddleware as _Otp

from openiop.accounts.backends import StaffAuthenticationMiddleware as _StaffAuthentication
from openiop.accounts.middleware import StaffSessionMiddleware as _StaffSession
from openiop.core.submissions import SubmissionMiddleware as _Submission
from openiop.core.token_api import API_CONTENT_SECURITY_POLICY, web_only

CSPMiddleware = web_only(_Csp, api_headers={"Content-Security-Policy": API_CONTENT_SECURITY_POLICY})

SessionMiddleware = web_only(_Session)
StaffAuthenticationMiddleware = web_only(_StaffAuthentication, anonymous_user=True)
OTPMiddleware = web_only(_Otp)
MessageMiddleware = web_only(_Messages)
StaffSessionMiddleware = web_only(_StaffSession)
SubmissionMiddleware = web_only(_Submission)
