/* searchlight
id          = "relief.paid_twice_in_a_month"
catalog     = "M08"
title       = "同一家庭同月重复发放低保金"
title_en    = "Subsistence allowance paid twice to one household for the same month"
domain      = "relief"
area        = "低保"
severity    = "medium"
owner       = "民生领域监督检查室"
description = """
低保发放明细中，同一家庭编号在同一发放月份有两笔以上发放的，为重复发放疑点(补发应记入所属月份并单独注明)。
金额为超出一笔的部分。"""
basis = [
  "《社会救助暂行办法》(国务院令第649号)第十二条：对批准获得最低生活保障的家庭，按照共同生活的家庭成员人均收入低于当地最低生活保障标准的差额，按月发给最低生活保障金",
  "《财政违法行为处罚处分条例》(国务院令第427号)第六条：违反规定使用、骗取财政资金的处理处分",
]
entity = ["household_id", "pay_month"]
unit   = "town"
amount = "excess_amount"
optional = ["relief_payments.town", "relief_payments.head_name", "relief_payments.amount", "relief_payments.account"]

# A household's clues depend on its own payments only, and $as_of bounds pay_month only: a
# month's new payments (an `append = true` export) are checked for the households they touch.
[incremental]
table  = "relief_payments"
key    = "household_id"
output = "household_id"
as_of  = "pay_month"
*/
-- The pairs paid more than once first (a count over two keys), then the details of those
-- pairs only. `twice` comes first so that it, a handful of rows, is the join's hash table: the
-- other way round the join hashed every payment of the county and ran out of memory at
-- province scale, and a single aggregation with every detail spilled for minutes.
WITH twice AS (
    SELECT household_id, pay_month
    FROM relief_payments
    WHERE pay_month <= $as_of
    GROUP BY household_id, pay_month
    HAVING count(*) > 1
)
SELECT
    p.household_id,
    p.pay_month,
    min(p.town)                          AS town,
    min(p.head_name)                     AS head_name,
    count(*)                             AS payments,
    sum(p.amount)                        AS total_amount,
    sum(p.amount) - min(p.amount)        AS excess_amount,
    array_to_string(array_sort(array_agg(DISTINCT p.account) FILTER (WHERE p.account IS NOT NULL)), '、') AS accounts
FROM twice t
JOIN relief_payments p ON t.household_id = p.household_id AND t.pay_month = p.pay_month
GROUP BY p.household_id, p.pay_month
