"""The file shell: a workbook on disk read, validated and computed in place.

``reader`` builds ``Grids`` from a package (values by python-calamine, formula cells
by a scan), ``compute`` runs validate and compute and patches only cells that differ,
``canonical`` gives the builder's own formulas to restore, ``report`` writes 校验结果,
``roster`` reads member lists, ``wordcount`` counts self-analyses.
"""
