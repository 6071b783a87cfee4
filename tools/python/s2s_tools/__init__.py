"""s2s_tools - the Python side of s2s.

Modules (import them by name; this file imports nothing heavy):

    reference   the float32 PyTorch reference of the model format
    tokenizer   the Python twin of the C tokenizer (also learns BPE merges)
    metrics     corpus BLEU, chrF and ROUGE (sacreBLEU-compatible BLEU/chrF)
    tutorial    the PyTorch seq2seq tutorial's classes and training loop
    dates       the (human-written date, ISO date) data generator
    train       tools/train: trains a model of the family from a TSV of pairs
    export      tools/export: checkpoint -> model directory, verified
    evaluate    tools/eval: BLEU / chrF / ROUGE of s2s outputs
    threads     thread counts of OpenBLAS and OpenMP, set before torch loads

Conventional aliases: `from s2s_tools import reference as ref`,
`from s2s_tools import tokenizer as tok`, `from s2s_tools import metrics`.
The tools/train, tools/export and tools/eval commands run
`python3 -m s2s_tools.<module>` with tools/python on PYTHONPATH.
"""
