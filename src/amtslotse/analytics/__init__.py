"""Analytics of the staff workspace: the report (report.py), its CSV export (export.py) and
server-rendered SVG charts (charts.py).

    >>> from amtslotse.analytics import Minutes, Period, build_report, report_csv, render_chart
"""

from amtslotse.analytics.charts import CHARTS, render_chart
from amtslotse.analytics.export import report_csv
from amtslotse.analytics.report import Minutes, Period, build_report

__all__ = ["CHARTS", "Minutes", "Period", "build_report", "render_chart", "report_csv"]
