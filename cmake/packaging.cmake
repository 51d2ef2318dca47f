# `cmake --install build --prefix P` (GNUInstallDirs) and the Debian package that
# `cpack -G DEB` makes from the build directory; its Depends come from dpkg-shlibdeps.
include(GNUInstallDirs)

install(TARGETS watercooler RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_BINARY_DIR}/watercooler.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES sys.config deploy/node1.env deploy/nginx.conf
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# Not LIBDIR (lib/x86_64-linux-gnu on Debian): systemd looks in lib/systemd/system.
install(FILES deploy/watercooler@.service DESTINATION lib/systemd/system)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME watercooler)
set(CPACK_PACKAGE_VENDOR "watercooler")
set(CPACK_PACKAGE_CONTACT "watercooler maintainers <watercooler@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "distributed chat room: a web page per node, shared messages")
set(CPACK_PACKAGE_DESCRIPTION
    "Every node serves a web page; browsers publish messages with a plain form and receive every "
    "message from every node of the cluster as a live Server-Sent-Events stream. Built on CAF "
    "actors and cpp-httplib. Ships a systemd template unit (watercooler@NODE) and an nginx "
    "example.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr) # where the unit's ExecStart looks
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # watercooler_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/CrowdHailer/watercooler")
include(CPack)
