"""Lists DNS-SD services of the given types for a few seconds, as JSON lines: a browser that is
not Kiln's code (Debian's python3-zeroconf), for the namespaced DNS-SD tests."""
import json
import sys
import time

from zeroconf import ServiceBrowser, ServiceListener, Zeroconf


class Collect(ServiceListener):
    def __init__(self):
        self.seen = {}

    def add_service(self, zc, type_, name):
        info = zc.get_service_info(type_, name, timeout=2000)
        if info is None:
            return
        self.seen[name] = {
            "type": type_,
            "name": name,
            "port": info.port,
            "server": info.server,
            "addresses": info.parsed_addresses(),
            "txt": {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()},
        }

    def update_service(self, zc, type_, name):
        self.add_service(zc, type_, name)

    def remove_service(self, zc, type_, name):
        self.seen.pop(name, None)


seconds = float(sys.argv[1])
types = sys.argv[2:]
zc = Zeroconf()
listener = Collect()
browsers = [ServiceBrowser(zc, t, listener) for t in types]
time.sleep(seconds)
zc.close()
print(json.dumps(list(listener.seen.values())))
