# The link half of the layering (the include half is tests/layering): after
# every target is defined, the transitive link closure of a target is
# computed from its LINK_LIBRARIES and INTERFACE_LINK_LIBRARIES, written to
# ${PROJECT_BINARY_DIR}/layering/<target>.links (one target a line, which
# tests/layering/layering_test.cc reads), and the configure step fails when
# it holds a forbidden target.

# crmhub_link_closure(TARGET OUT): every target TARGET links, directly or not.
function(crmhub_link_closure target out)
  set(seen "")
  set(todo ${target})
  while(todo)
    list(POP_FRONT todo node)
    if(NOT TARGET ${node} OR node IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${node})
    get_target_property(type ${node} TYPE)
    set(deps "")
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(direct ${node} LINK_LIBRARIES)
      if(direct)
        list(APPEND deps ${direct})
      endif()
    endif()
    get_target_property(iface ${node} INTERFACE_LINK_LIBRARIES)
    if(iface)
      list(APPEND deps ${iface})
    endif()
    foreach(dep IN LISTS deps)
      # A static library's private dependencies reach its users as
      # $<LINK_ONLY:dep>: they are linked all the same.
      string(REGEX REPLACE "^\\$<LINK_ONLY:([^>]+)>$" "\\1" dep "${dep}")
      if(dep MATCHES "^\\$<" OR dep MATCHES "^-")
        continue()
      endif()
      list(APPEND todo ${dep})
    endforeach()
  endwhile()
  list(REMOVE_ITEM seen ${target})
  list(SORT seen)
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# crmhub_forbid_links(TARGET REGEX): records TARGET's closure and fails the
# configure step when a target in it matches REGEX.
function(crmhub_forbid_links target regex)
  crmhub_link_closure(${target} closure)
  list(JOIN closure "\n" text)
  file(WRITE ${PROJECT_BINARY_DIR}/layering/${target}.links "${text}\n")
  set(bad ${closure})
  list(FILTER bad INCLUDE REGEX "^(${regex})$")
  if(bad)
    message(FATAL_ERROR "layering: ${target} links ${bad}, which it must not "
                        "(docs/architecture.md, \"Layers\")")
  endif()
endfunction()
