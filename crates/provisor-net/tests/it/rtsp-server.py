"""An RTSP server for the test bench, made with GStreamer's RTSP server library: a
microphone-like audio stream (a test tone, A-law) at /live on ADDRESS:PORT, behind
digest authentication when USER and PASSWORD are given, open to anyone otherwise.

Usage: rtsp-server.py ADDRESS PORT [USER PASSWORD]
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

Gst.init(None)
address, port = sys.argv[1], sys.argv[2]
server = GstRtspServer.RTSPServer()
server.set_address(address)
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    "( audiotestsrc is-live=true ! audio/x-raw,rate=8000,channels=1"
    " ! alawenc ! rtppcmapay name=pay0 pt=8 )"
)
factory.set_shared(True)
if len(sys.argv) == 5:
    user, password = sys.argv[3], sys.argv[4]
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
    auth.add_digest(user, password, token)
    auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    for permission in (
        GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS,
        GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
    ):
        permissions.add_permission_for_role("viewer", permission, True)
    factory.set_permissions(permissions)
server.get_mount_points().add_factory("/live", factory)
server.attach(None)
print("listening", flush=True)
GLib.MainLoop().run()
