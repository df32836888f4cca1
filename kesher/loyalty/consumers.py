"""The loyalty part's consumers of the activity stream."""

from kesher.activity.registry import ANY, consumer
from kesher.loyalty.services import points_earn_for_activity

consumer(ANY, name="loyalty.earn", immediate=True)(points_earn_for_activity)
