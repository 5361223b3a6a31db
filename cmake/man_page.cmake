# Writes crmhub.1 (roff) from `crmhub --help` and each command's --help.
# -DCRMHUB=binary -DOUT=file -DVERSION=x.y.z
execute_process(COMMAND ${CRMHUB} --help OUTPUT_VARIABLE top ERROR_VARIABLE top_err
                RESULT_VARIABLE rc)
string(APPEND top "${top_err}")
set(roff ".TH CRMHUB 1 \"\" \"crmhub ${VERSION}\" \"User Commands\"\n")
string(APPEND roff ".SH NAME\ncrmhub \\- integration hub between a CRM and outside systems\n")
string(APPEND roff ".SH SYNOPSIS\n.B crmhub\n\\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n")
macro(crmhub_escape var)
  string(REPLACE "\\" "\\\\" ${var} "${${var}}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" ${var} "${${var}}")
endmacro()
crmhub_escape(top)
string(APPEND roff ".SH DESCRIPTION\n.nf\n${top}.fi\n")
# Commands: the lines of the top-level help indented by two spaces.
string(REGEX MATCHALL "\n  [a-z][a-z-]+" commands "${top}")
string(APPEND roff ".SH COMMANDS\n")
foreach(line IN LISTS commands)
  string(STRIP "${line}" cmd)
  execute_process(COMMAND ${CRMHUB} ${cmd} --help OUTPUT_VARIABLE help ERROR_VARIABLE help_err)
  string(APPEND help "${help_err}")
  crmhub_escape(help)
  string(APPEND roff ".SS ${cmd}\n.nf\n${help}.fi\n")
endforeach()
string(APPEND roff ".SH FILES\n/etc/crmhub/crmhub.toml, /var/lib/crmhub, "
       "/usr/share/doc/crmhub/operations.md\n")
file(WRITE ${OUT} "${roff}")
