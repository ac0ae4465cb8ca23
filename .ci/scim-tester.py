"""Runs the RFC 7643/7644 compliance checker scim2-tester against a live Portcullis /scim/v2.

Usage: python scim-tester.py BASE_URL TOKEN

Portcullis identifies people by e-mail, so a User's userName must be an e-mail address (or the
User must carry one in `emails`). A schema cannot say that, and the checker fills userName with a
random UUID; so, as its documentation allows ("what the client already describes wins over what
the server publishes"), we discover the server's models first and give userName fresh e-mail
addresses as examples. Every other attribute is filled exactly as the checker would.
"""
import collections.abc
import sys
import uuid

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status


class FreshEmails(collections.abc.Sequence):
    """A practically endless list of distinct addresses (the checker picks one at random)."""

    def __len__(self):
        return 1_000_000_000

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(index)
        return f"user-{uuid.uuid4().hex}@scim-tester.example"


def main():
    base, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    client = SyncSCIMClient(http)
    client.discover()
    user = client.get_resource_model("User")
    user.model_fields["user_name"].examples = FreshEmails()
    results = check_server(client)
    failed = 0
    counts = collections.Counter()
    for result in results:
        counts[result.status.name] += 1
        bad = result.status in (Status.ERROR, Status.CRITICAL)
        failed += bad
        mark = "FAIL" if bad else result.status.name
        print(f"{mark:10} {result.resource_type or '-':6} {result.title}: {result.reason or ''}")
    print("scim2-tester:", dict(counts))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
