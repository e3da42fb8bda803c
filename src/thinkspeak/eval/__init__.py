"""Evaluation: Spoken-MQA scoring as AudioBench does it (``spoken_mqa``), the spoken-math harness
(``math_items``, ``responders``, ``math_run``, ``math_summary``, ``spoken_check``), full-duplex metrics
(``duplex_metrics``, ``turn_taking``, ``vad_segments``), turn latency (``latency``) and reports (``plots``,
``report``). See docs/evaluation.md."""
