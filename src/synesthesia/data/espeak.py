"""Moved to :mod:`synesthesia.io.espeak` (eSpeak NG bindings are io); this name still works.

``synesthesia.data.espeak`` is the very same module object as ``synesthesia.io.espeak``, so
attribute reads and ``monkeypatch.setattr`` on either name act on the one implementation.
"""

import sys

from synesthesia.io import espeak as _espeak

sys.modules[__name__] = _espeak
