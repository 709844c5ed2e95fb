# Fixes and decisions of the SmartCam BSP for OpenSSL.
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"

SRC_URI += "file://0001-CVE-2023-0464-x509-excessive-resource-use.patch \
            file://cve_2023_0465_invalid_policies.patch;striplevel=1 \
            file://0003-fix-build-with-musl.patch \
            file://camera-defaults.cnf \
           "

CVE_STATUS[CVE-2023-2650] = "backported-patch: the OBJ_obj2txt fix is in 0004-asn1.patch from 3.0.9"
CVE_STATUS[CVE-2023-1255] = "not-applicable-platform: AES-XTS on 64-bit ARM only; the SoC is 32-bit"
CVE_STATUS[CVE-2023-3446] ?= "not-applicable-config: DH is compiled out (no-dh)"
CVE_STATUS:pn-openssl[CVE-2023-3817] = "cpe-incorrect"
CVE_STATUS[CVE-2023-9999] = "unpatched: waiting for upstream"
CVE_STATUS[not-a-cve] = "ignored"

CVE_STATUS_GROUPS += "CVE_STATUS_OPENSSL_WINDOWS"
CVE_STATUS_OPENSSL_WINDOWS = "CVE-2023-6129 CVE-2024-0727"
CVE_STATUS_OPENSSL_WINDOWS[status] = "not-applicable-platform: Windows and PowerPC only"

CVE_CHECK_IGNORE += "CVE-2022-1343"
