# Install rules and the Debian package (scripts/package.sh; docs/operations.md,
# "Install the package").
#
# Layout (with CMAKE_INSTALL_PREFIX=/usr, as the package uses):
#   /usr/bin/crmhub                          the binary
#   /usr/lib/systemd/system/crmhub.service   the unit, installed, not enabled
#   /etc/crmhub/crmhub.toml.example          the packaged config (config/crmhub.package.toml);
#                                            postinst copies it to crmhub.toml if missing
#   /etc/crmhub/mappings/*.toml              the shipped mapping rules
#   /etc/crmhub/credentials/                 0700, LoadCredential= sources: empty in the
#                                            package, postinst creates random ones if missing
#   /usr/share/doc/crmhub/                   README and the operator's docs
#   /usr/share/man/man1/crmhub.1.gz          from `crmhub --help`
# /var/lib/crmhub is not shipped: systemd creates it (StateDirectory=).

include(GNUInstallDirs)

install(TARGETS crmhub RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES systemd/crmhub.service DESTINATION lib/systemd/system)
install(FILES config/crmhub.package.toml DESTINATION /etc/crmhub RENAME crmhub.toml.example)
install(DIRECTORY config/mappings/ DESTINATION /etc/crmhub/mappings FILES_MATCHING PATTERN "*.toml")
install(DIRECTORY packaging/empty/ DESTINATION /etc/crmhub/credentials
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
        PATTERN README EXCLUDE)
install(FILES README.md docs/operations.md docs/config.md docs/api.yaml docs/mapping.md
              docs/crm-store.md docs/model.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The man page: `crmhub --help` and every command's --help, as roff.
set(CRMHUB_MAN_PAGE ${CMAKE_BINARY_DIR}/crmhub.1.gz)
add_custom_command(
  OUTPUT ${CRMHUB_MAN_PAGE}
  COMMAND ${CMAKE_COMMAND} -DCRMHUB=$<TARGET_FILE:crmhub> -DOUT=${CMAKE_BINARY_DIR}/crmhub.1
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/man_page.cmake
  COMMAND gzip -9nf ${CMAKE_BINARY_DIR}/crmhub.1
  DEPENDS crmhub ${PROJECT_SOURCE_DIR}/cmake/man_page.cmake
  COMMENT "crmhub.1 from crmhub --help")
add_custom_target(crmhub_man ALL DEPENDS ${CRMHUB_MAN_PAGE})
install(FILES ${CRMHUB_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME crmhub)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "crmhub maintainers <crmhub@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "integration hub between a CRM and marketplaces, 1C, banks, payments, telephony")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # the real shared-library dependencies (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Credentials and a config in place before the first start (never enables
# or starts the unit).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/postinst)
include(CPack)
