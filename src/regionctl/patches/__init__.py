"""Hot-fix patch sets per region (issue 12): found in the site, parsed, checked against the real
package files of the version a region runs, and shipped with a start-up script that applies them
loudly or refuses to start the service.

    sets      where patch sets live in a site, and each region's set (base, override, removal)
    diff      one patch file parsed: hunks with their lines, header pins, what is refused
    conflicts two patches of one set that change the same lines in an order that cannot apply
    validate  every problem of every patch as FILE:LINE (wired into ``validate``)
    environment  an installed environment: its site-packages and its distributions' versions
    check     a region's set applied in order to a scratch copy of the real files (GNU patch)
"""
