-- Flow 4 (Subscription & Billing): an organization has at most one active subscription.
-- Two would mean a Dodo webhook created a subscription instead of updating the existing one,
-- and quota_limit follows whichever webhook came last.
SELECT subscriptions.org_id, count(*) AS active_subscriptions
FROM subscriptions
WHERE subscriptions.status = 'active'
GROUP BY subscriptions.org_id
HAVING count(*) > 1
