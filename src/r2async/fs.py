"""fsspec filesystem for R2: ``fsspec.filesystem("r2")``, ``pd.read_parquet("r2://b/k")``.

Install with ``pip install 'r2async[fs]'``; the ``r2`` protocol is registered through the
``fsspec.specs`` entry point.

```python
from r2async.fs import R2FileSystem

fs = R2FileSystem()  # R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY
fs.pipe_file("my-bucket/hello.txt", b"hi", content_type="text/plain")
```
"""

from ._fs.errors import ObjectChangedError
from ._fs.file import R2File
from ._fs.filesystem import R2FileSystem

__all__ = ["ObjectChangedError", "R2File", "R2FileSystem"]
