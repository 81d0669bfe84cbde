"""A demo company on a test database, for the switchboard's integration tests.

Built with the demo loader's own company builder (the same services the site uses, speech
from espeak-ng), so the calls here walk the dialplan `pbx demo` shows. Bergström Bygg:
+46852001000 → welcome → Huvudmeny (1 queue Försäljning 102/103/104 → overflow Anna's
voicemail; 2 Kundtjänst menu: 1 → 104, 2 → 105's voicemail, 9 → back; 0 and timeout →
Anna 101). Direct numbers +46852001001 → Erik 102 (no answer → 103),
+46852001002 → Maria 103 (busy → her mobile). Johan 104: unavailable → his mobile;
Sara 105 forwards everything to Anna.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from fixtures import demo
from fixtures.demo_data import COMPANIES
from fixtures.demo_media import DemoAudio, DemoImage, DemoMedia
from storage.blobs import BlobStore
from storage.models import Tenant, User

MAIN = "+46852001000"
ERIK_DIRECT = "+46852001001"
MARIA_DIRECT = "+46852001002"
CALLER = "+46701112233"
ANNA_MOBILE = "+46701234000"
MARIA_MOBILE = "+46701234002"
JOHAN_MOBILE = "+46701234003"


class _CachedMedia(DemoMedia):
    """The same speech and pictures for every test (synthesised once per run)."""

    @cache  # noqa: B019 - one instance for the whole run
    def speech(self, text: str, language: str) -> DemoAudio:
        return super().speech(text, language)

    @cache  # noqa: B019 - one instance for the whole run
    def avatar(self, name: str) -> DemoImage:
        return super().avatar(name)


@cache
def _media() -> DemoMedia:
    return _CachedMedia()


def demo_company(session: Session, blobs: BlobStore, index: int = 0) -> Tenant:
    tenant = demo._company(session, blobs, _media(), COMPANIES[index])
    session.flush()
    return tenant


def user_by_ext(session: Session, tenant: Tenant, ext: str) -> User:
    user = session.scalar(select(User).where(User.tenant_id == tenant.id, User.extension == ext))
    assert user is not None
    return user
