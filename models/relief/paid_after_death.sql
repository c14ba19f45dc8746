/* searchlight
id          = "relief.paid_after_death"
catalog     = "M02"
title       = "死亡后仍领取补贴或低保"
title_en    = "Benefits paid after the recipient's death"
domain      = "relief"
area        = "惠民惠农补贴"
severity    = "high"
owner       = "民生领域监督检查室"
description = """
死亡人口(公安户籍注销、卫健死亡医学证明、民政殡葬火化，取最早的死亡日期)与一卡通补贴发放明细、
低保发放明细比对：死亡日期加宽限天数之后仍有发放的，为冒领或未及时停发的疑点。宽限期内的补发当月不算。
有发放日期的按发放日期比对；只有发放月份(发放年月、按月分列的花名册)的按月份比对：所属月份在
「死亡日期加宽限天数」所在月份之后的为疑点，死亡当月不算。证据列「比对依据」写明按哪一种比对。"""
basis = [
  "《社会救助暂行办法》(国务院令第649号)第十三条：最低生活保障家庭的人口状况发生变化的，应当及时告知，并相应减发或停发",
  "《社会救助暂行办法》第六十八条：骗取社会救助资金的，停止救助、责令退回",
  "《中华人民共和国社会保险法》第八十八条：以欺诈、伪造证明材料或者其他手段骗取社会保险待遇的，责令退回骗取的款项，处二倍以上五倍以下罚款",
]
entity = ["id_no"]
unit   = "village"
amount = "amount_after_death"

optional = ["subsidy_payments", "relief_payments", "relief_households", "deaths.name", "subsidy_payments.programme", "subsidy_payments.village", "relief_payments.town", "relief_payments.head_id", "relief_payments.pay_date", "relief_payments.pay_month"]
one_of   = [["subsidy_payments.id_no", "relief_households.head_id", "relief_payments.head_id"]]

[params]
grace_days = { type = "int", default = 31, min = 0, max = 92, doc = "死亡后允许补发的天数" }
*/
WITH death AS (
    SELECT id_no, min(death_date) AS death_date, min(name) AS name
    FROM deaths
    WHERE id_no IS NOT NULL
    GROUP BY id_no
),
paid AS (
    -- 一卡通 subsidies by recipient; 低保 by the household head, known from the household
    -- register or, where it lacks the household, from the payment roster itself. A 低保 roster
    -- may state the day paid, the month paid for, or both.
    SELECT s.id_no, coalesce(s.programme, '惠民惠农补贴') AS programme, s.pay_date,
           CAST(NULL AS DATE) AS pay_month, s.amount, s.village
    FROM subsidy_payments s
    UNION ALL
    SELECT coalesce(h.head_id, p.head_id) AS id_no, '最低生活保障金' AS programme, p.pay_date,
           p.pay_month, p.amount, p.town AS village
    FROM relief_payments p
    LEFT JOIN relief_households h ON h.household_id = p.household_id
),
after_death AS (
    SELECT p.*, d.death_date, d.name,
           CASE WHEN p.pay_date IS NOT NULL THEN '发放日期' ELSE '发放月份' END AS compared,
           coalesce(p.pay_date, p.pay_month) AS paid_on
    FROM paid p
    JOIN death d ON d.id_no = p.id_no
    WHERE (p.pay_date > d.death_date + $grace_days AND p.pay_date <= $as_of)
       -- by month: a month after the month the grace ends in (the month of death never is)
       OR (p.pay_date IS NULL
           AND p.pay_month > date_trunc('month', d.death_date + $grace_days)
           AND p.pay_month <= $as_of)
)
SELECT
    id_no,
    min(name)            AS name,
    death_date,
    programme,
    min(village)         AS village,
    count(*)             AS payments_after_death,
    min(paid_on)         AS first_after,
    max(paid_on)         AS last_after,
    sum(amount)          AS amount_after_death,
    array_to_string(array_sort(array_agg(DISTINCT compared) FILTER (WHERE compared IS NOT NULL)), '、') AS compared
FROM after_death
GROUP BY id_no, death_date, programme
