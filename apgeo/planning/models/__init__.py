"""Location models: maximal covering (MCLP), p-median and their capacitated forms.

Each follows spopt / scikit-learn: ``Model.from_cost_matrix(...)`` is the tested core,
``Model.from_tables`` the adapter, ``.solve()`` returns ``self`` and results end in ``_``.
``base`` holds the solvers and the lazy greedy; ``mclp``, ``pmedian`` and ``capacitated``
one model family each.
"""
