"""Pure business rules of Ripple: no boto3, no network, no clocks they are not handed."""
