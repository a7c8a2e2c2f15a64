"""An obspec store for R2: code written against obspec's protocols works on ``R2Store``.

```python
from r2async.store import R2Store

store = R2Store("my-bucket")  # R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY
store.put("hello.txt", b"hi", mode="create")
assert bytes(store.get("hello.txt").buffer()) == b"hi"
```

Needs only r2async itself; ``obspec`` (``pip install obspec``) is needed only to type-check
code against its protocols.
"""

from ._store.errors import (
    AlreadyExistsError,
    BaseError,
    NotFoundError,
    NotModifiedError,
    NotSupportedError,
    PermissionDeniedError,
    PreconditionError,
)
from ._store.results import AsyncGetResult, SyncGetResult
from ._store.store import R2Store

__all__ = [
    "AlreadyExistsError",
    "AsyncGetResult",
    "BaseError",
    "NotFoundError",
    "NotModifiedError",
    "NotSupportedError",
    "PermissionDeniedError",
    "PreconditionError",
    "R2Store",
    "SyncGetResult",
]
