"""Opens a document in a headless LibreOffice, appends a paragraph and saves (Ctrl+S, store())
once per word given, then closes it: LibreOffice's own save pattern on whatever filesystem the
document is on (its `.~lock.NAME#` file, a `luXXXX.tmp` in the same folder renamed over it).

    /usr/bin/python3 libreoffice-save.py DOCUMENT PROFILE-DIR WORD...

Prints one line per save with the folder's names seen while the document is open."""
import os
import subprocess
import sys
import time
import uuid

import uno
from com.sun.star.beans import PropertyValue

document, profile, words = sys.argv[1], sys.argv[2], sys.argv[3:]
pipe = "nexusfs-test-" + uuid.uuid4().hex
office = subprocess.Popen(
    ["soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
     "-env:UserInstallation=" + uno.systemPathToFileUrl(profile), f"--accept=pipe,name={pipe};urp;"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 120
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except Exception:
            if time.monotonic() > deadline or office.poll() is not None:
                raise
            time.sleep(0.25)
    desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
    hidden = PropertyValue()
    hidden.Name, hidden.Value = "Hidden", True
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(document), "_blank", 0, (hidden,))
    if doc is None:
        sys.exit(f"LibreOffice could not open {document}")
    for word in words:
        text = doc.getText()
        text.insertString(text.getEnd(), word, False)
        doc.store()
        print("saved", word, sorted(os.listdir(os.path.dirname(document))), flush=True)
    doc.close(True)
    desktop.terminate()
finally:
    try:
        office.wait(timeout=60)
    except subprocess.TimeoutExpired:
        office.kill()
        office.wait()
